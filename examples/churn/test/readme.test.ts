import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type TestS3 } from '../../../packages/storage/test/helpers/s3.js';
import { EXPECTED, expectClose, expectFixtureAnswer } from './fixture.js';
import {
  fileServer,
  freePort,
  hasPython,
  ReadmeRunner,
  type ReadmeServer,
  ROOT,
  readmeCommands,
  type ShellCommand,
} from './readme.js';

const README = 'examples/churn/README.md';
const commands = readmeCommands(README);
const sections = [...new Set(commands.map((c) => c.section))];
describe('examples/churn/README.md commands', () => {
  const runner = new ReadmeRunner();
  const servers = new Map<number, ReadmeServer>();
  const closers: Array<() => Promise<void>> = [];
  let cache: string;
  let s3: TestS3;
  let env: Record<string, string>;

  beforeAll(async () => {
    cache = mkdtempSync(join(tmpdir(), 'churn-readme-'));
    s3 = await startS3(join(cache, 's3'), ['models']);
    runner.ports.set(9000, s3.port);
    // The README's S3 commands take their credentials from the environment (here: s3rver's).
    const { AWS_ENDPOINT_URL: _endpoint, ...credentials } = s3.env; // the endpoint comes from the README line
    env = { ...credentials, SERVEKIT_STORAGE_CACHE_DIR: join(cache, 'models') };
  });
  afterAll(async () => {
    runner.killAll();
    for (const close of closers) await close();
    await s3?.close();
    rmSync(cache, { recursive: true, force: true });
  });

  /** Run one README command the way a reader would. */
  async function play(cmd: ShellCommand): Promise<void> {
    const t = cmd.text;
    if (t === 'npx tsc -b') {
      // `npm test` builds before any test runs; the transformer must be there.
      expect(existsSync(join(ROOT, 'examples/churn/dist/transformer.js'))).toBe(true);
    } else if (t.startsWith('python3 -m http.server')) {
      const port = await freePort();
      runner.ports.set(Number(/http\.server (\d+)/.exec(t)![1]), port);
      if (hasPython) {
        const proc = await runner.background(t.replace(/http\.server \d+/, `http.server ${port}`), port);
        closers.push(async () => void (await runner.stop(proc)));
      } else {
        const dir = join(ROOT, /--directory (\S+)/.exec(t)![1]!);
        const server = await fileServer(dir, port);
        closers.push(() => new Promise((r) => server.close(() => r())));
      }
    } else if (t.startsWith('aws s3 cp ')) {
      const [, file, bucket, key] = /^aws s3 cp (\S+) s3:\/\/([^/]+)\/(\S+)$/.exec(t)!;
      await s3.put(bucket!, key!, readFileSync(join(ROOT, file!)));
    } else if (/ serve /.test(t)) {
      const port = Number(/--http_port[= ](\d+)/.exec(t)?.[1] ?? 8080);
      const previous = servers.get(port);
      if (previous) expect(await runner.stop(previous)).toBe(0);
      servers.set(port, await runner.serve(cmd, env));
    } else if (t.startsWith('curl ')) {
      const { code, stdout, stderr } = await runner.run(cmd);
      expect(code, stderr).toBe(0);
      expect(cmd.expected, `no "# answer" comment under: ${t}`).toBeDefined();
      expectClose(JSON.parse(stdout), JSON.parse(cmd.expected!));
    } else {
      throw new Error(`README command the test does not know how to run: ${t}`);
    }
  }

  it('has the three ways, each with requests and answers', () => {
    expect(sections).toEqual([
      '1. Serve the folder',
      '2. Serve it from a URL or a bucket',
      '3. A transformer in front: approved or not',
    ]);
    for (const s of sections) expect(commands.some((c) => c.section === s && c.text.startsWith('curl '))).toBe(true);
  });

  it.each(sections)('runs section "%s" as written', async (section) => {
    for (const cmd of commands.filter((c) => c.section === section)) await play(cmd);
    for (const s of servers.values()) expect(await runner.stop(s)).toBe(0);
    servers.clear();
  });

  it('promises the answers scikit-learn gives (expected.json)', () => {
    const request = JSON.parse(readFileSync(join(ROOT, 'examples/churn/customers.json'), 'utf8'));
    expect(request).toEqual({ instances: EXPECTED.inputs.slice(0, 2) });
    const answers = commands.filter((c) => c.text.startsWith('curl ') && c.expected?.startsWith('{"predictions"'));
    expect(answers.length).toBeGreaterThanOrEqual(6);
    for (const c of answers) expectFixtureAnswer(JSON.parse(c.expected!));
  });
});
