// examples/clothing/README.md, run as written: every shell command of sections 1–3 in order, against real
// processes (servekit on free loopback ports, python's http.server or a node:http stand-in for the images). Each
// curl's output must equal the comment under it (probabilities to the printed digits, classes in the same order).
// Also: the generator rewrites the committed SavedModel byte for byte.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  fileServer,
  freePort,
  hasPython,
  ReadmeRunner,
  type ReadmeServer,
  ROOT,
  readmeCommands,
  type ShellCommand,
} from '../../churn/test/readme.js';

const README = 'examples/clothing/README.md';
const commands = readmeCommands(README);
const SECTIONS = ['1. The predictor and the transformer', '2. Ask it', '3. In one process'];
/** `actual` equals `expected` where numbers match to the digits `expected` prints, and keys keep their order. */
function expectSameAnswer(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number') {
    const digits = (String(expected).split('.')[1] ?? '').length;
    expect(typeof actual, where).toBe('number');
    expect(Math.abs((actual as number) - expected), where).toBeLessThanOrEqual(0.5 * 10 ** -digits + 1e-12);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual) && actual.length === expected.length, where).toBe(true);
    expected.forEach((e, i) => {
      expectSameAnswer((actual as unknown[])[i], e, `${where}[${i}]`);
    });
  } else if (expected !== null && typeof expected === 'object') {
    expect(Object.keys(actual as object), where).toEqual(Object.keys(expected));
    for (const [k, e] of Object.entries(expected)) expectSameAnswer((actual as Record<string, unknown>)[k], e, where);
  } else {
    expect(actual, where).toEqual(expected);
  }
}

describe('examples/clothing/README.md commands', () => {
  const runner = new ReadmeRunner();
  const servers = new Map<number, ReadmeServer>();
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const s of servers.values()) await runner.stop(s);
    runner.killAll();
    for (const close of closers) await close();
  });

  /** Run one README command the way a reader would. */
  async function play(cmd: ShellCommand): Promise<void> {
    const t = cmd.text;
    if (t === 'npx tsc -b') {
      // `npm test` builds before any test runs; the transformer module must be there.
      expect(existsSync(join(ROOT, 'examples/clothing/dist/image-transformer.js'))).toBe(true);
    } else if (t.startsWith('python3 -m http.server')) {
      const port = await freePort();
      runner.ports.set(Number(/http\.server (\d+)/.exec(t)![1]), port);
      if (hasPython) {
        const proc = await runner.background(t.replace(/http\.server \d+/, `http.server ${port}`), port);
        closers.push(async () => void (await runner.stop(proc)));
      } else {
        const server = await fileServer(join(ROOT, /--directory (\S+)/.exec(t)![1]!), port);
        closers.push(() => new Promise((r) => server.close(() => r())));
      }
    } else if (/ serve /.test(t)) {
      const port = Number(/--http_port[= ](\d+)/.exec(t)?.[1] ?? 8080);
      const previous = servers.get(port);
      if (previous) expect(await runner.stop(previous)).toBe(0);
      servers.set(port, await runner.serve(cmd));
    } else if (t.startsWith('curl ')) {
      const { code, stdout, stderr } = await runner.run(cmd);
      expect(code, stderr).toBe(0);
      expect(cmd.expected, `no "# answer" comment under: ${t}`).toBeDefined();
      const expected = JSON.parse(runner.sub(cmd.expected!));
      // The answer names the URL the transformer was really sent (the README's ports mapped to real ones).
      expectSameAnswer(JSON.parse(stdout), expected, `${t}\n→ ${stdout}`);
    } else {
      throw new Error(`README command the test does not know how to run: ${t}`);
    }
  }

  it('has the three sections, each with a command, and answers under every curl', () => {
    expect([...new Set(commands.map((c) => c.section))]).toEqual(SECTIONS);
    for (const c of commands.filter((c) => c.text.startsWith('curl '))) expect(c.expected, c.text).toBeDefined();
  });

  it('runs sections 1–3 as written', async () => {
    for (const cmd of commands) await play(cmd);
    // Sections 2 and 3 promise the same answer for the same image, from two processes and from one.
    const answers = commands.filter((c) => c.text.includes('/sample.jpg"}]}') && !c.text.includes('sample.png'));
    expect(answers.length).toBe(2);
    expect(answers[0]!.expected).toBe(answers[1]!.expected);
  });

  it('the generator rewrites the committed SavedModel byte for byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'clothing-model-'));
    try {
      execFileSync(process.execPath, ['examples/clothing/dist/build-model.js', out], { cwd: ROOT });
      const committed = readFileSync(join(ROOT, 'examples/clothing/model/1/saved_model.pb'));
      expect(committed.length).toBeLessThan(300 * 1024);
      expect(readFileSync(join(out, 'saved_model.pb')).equals(committed)).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
