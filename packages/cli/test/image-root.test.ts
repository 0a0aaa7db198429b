// The container images: Dockerfile.sklearn / Dockerfile.tf build with scripts/build-image-root.sh, whose output is
// the whole runtime tree. Here the script runs into a temp dir, production dependencies are linked in place of the
// image's `npm ci --omit=dev`, and the CLI from that tree serves a model as each image's ENTRYPOINT/CMD/ENV would.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envName } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVE_FLAGS } from '../src/flags.js';
import { FIX, killAll, post, ROOT, serve, stop } from './cli-process.js';

afterAll(killAll);

interface Dockerfile {
  from: string[];
  run: string[];
  user?: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
}

/** The instructions of a Dockerfile this test cares about (continuation lines joined). */
function parseDockerfile(text: string): Dockerfile {
  const lines = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const out: Dockerfile = { from: [], run: [], env: {}, entrypoint: [], cmd: [] };
  for (const line of lines) {
    const [, op, rest] = /^(\w+)\s+(.*)$/.exec(line)!;
    if (op === 'FROM') out.from.push(rest!);
    else if (op === 'RUN') out.run.push(rest!);
    else if (op === 'USER') out.user = rest!;
    else if (op === 'ENV') for (const [, k, v] of rest!.matchAll(/(\w+)=(\S+)/g)) out.env[k!] = v!;
    else if (op === 'ENTRYPOINT') out.entrypoint = JSON.parse(rest!) as string[];
    else if (op === 'CMD') out.cmd = JSON.parse(rest!) as string[];
  }
  return out;
}

const flagNames = new Set<string>(SERVE_FLAGS.map((f) => f.name));
const envNames = new Map(SERVE_FLAGS.map((f) => [envName(f.name), f.name]));
const IMAGES = ['Dockerfile.sklearn', 'Dockerfile.tf'];
/** The image's base: the Active LTS line of Node.js, within every package's `engines` range. */
const BASE = 'node:26-slim';
/** Where the images lay out the runtime tree. */
const IMAGE_ROOT = '/opt/servekit';

/** The file the image links as /usr/local/bin/servekit (`ln -s TARGET /usr/local/bin/servekit`), in the tree. */
function linkedBin(d: Dockerfile): string {
  const link = /ln -s (\S+) \/usr\/local\/bin\/servekit/.exec(d.run.join(' && '));
  if (!link) throw new Error('the image links no /usr/local/bin/servekit');
  const target = link[1]!;
  if (!target.startsWith(`${IMAGE_ROOT}/`)) throw new Error(`servekit links outside ${IMAGE_ROOT}: ${target}`);
  return target.slice(IMAGE_ROOT.length + 1);
}

describe('container images', () => {
  it.each(IMAGES)(`%s: ${BASE}, built by the shared script, non-root, \`servekit serve\` with real flags`, (file) => {
    const d = parseDockerfile(readFileSync(join(ROOT, file), 'utf8'));
    expect(d.from).toEqual([`${BASE} AS build`, BASE]);
    expect(linkedBin(d)).toBe('packages/cli/bin/servekit.js');
    expect(d.run[0]).toBe(
      'npm ci --no-audit --no-fund && npm run build && sh scripts/build-image-root.sh /opt/servekit',
    );
    expect(d.run[1]).toMatch(/^npm ci --omit=dev /);
    expect(d.user).toBe('node');
    expect(d.entrypoint).toEqual(['servekit', 'serve']);
    const flags = d.cmd.filter((a) => a.startsWith('--')).map((a) => a.slice(2));
    for (const f of flags) expect(flagNames.has(f), `${file}: --${f}`).toBe(true);
    expect(d.cmd.slice(0, 2)).toEqual(['--model_dir', '/mnt/models']);
    expect(d.cmd).toEqual(expect.arrayContaining(['--http_port', '8080', '--grpc_port', '8081']));
    for (const k of Object.keys(d.env)) expect(envNames.has(k), `${file}: ENV ${k}`).toBe(true);
    if (file === 'Dockerfile.tf') expect(d.env.SERVEKIT_MODEL_FORMAT).toBe('tensorflow');
  });

  describe('the runtime tree of scripts/build-image-root.sh', () => {
    const dest = mkdtempSync(join(tmpdir(), 'servekit-image-'));
    beforeAll(() => {
      execFileSync('sh', [join(ROOT, 'scripts/build-image-root.sh'), dest], { cwd: ROOT });
      // Stand-in for the image's `npm ci --omit=dev`: third-party packages linked from the checkout, the
      // workspaces resolved inside the tree, so nothing outside it (sources, tests) can be picked up.
      const modules = join(dest, 'node_modules');
      mkdirSync(join(modules, '@servekit'), { recursive: true });
      for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
        if (entry === '@servekit' || entry.startsWith('.')) continue;
        symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
      }
      for (const pkg of readdirSync(join(dest, 'packages'))) {
        const name = (JSON.parse(readFileSync(join(dest, 'packages', pkg, 'package.json'), 'utf8')) as { name: string })
          .name;
        if (name.startsWith('@servekit/')) symlinkSync(join(dest, 'packages', pkg), join(modules, name));
      }
    });
    afterAll(() => rmSync(dest, { recursive: true, force: true }));

    it('holds manifests, the proto and built workspaces, and no sources, tests or build info', () => {
      const files = [
        'package.json',
        'package-lock.json',
        '.npmrc',
        'packages/core/proto/grpc_predict_v2.proto',
        'packages/cli/bin/servekit.js',
      ];
      for (const f of files) {
        expect(existsSync(join(dest, f)), f).toBe(true);
      }
      for (const pkg of ['core', 'onnx', 'storage', 'sklearn', 'xgboost', 'tf', 'cli']) {
        expect(existsSync(join(dest, 'packages', pkg, 'dist/index.js')), pkg).toBe(true);
        expect(existsSync(join(dest, 'packages', pkg, 'src')), `${pkg}/src`).toBe(false);
        expect(existsSync(join(dest, 'packages', pkg, 'test')), `${pkg}/test`).toBe(false);
        expect(existsSync(join(dest, 'packages', pkg, 'tsconfig.tsbuildinfo')), `${pkg}/tsbuildinfo`).toBe(false);
      }
    });

    it.each([
      ['Dockerfile.sklearn', 'sklearn/iris_logreg', { instances: [[5.1, 3.5, 1.4, 0.2]] }, [0]],
      ['Dockerfile.tf', 'tf/serving_half_plus_two_2_versions', { instances: [1, 2] }, [2.5, 3]],
    ])('serves as %s does (%s)', async (file, fixture, body, predictions) => {
      const d = parseDockerfile(readFileSync(join(ROOT, file), 'utf8'));
      const cmd = [...d.cmd];
      cmd[1] = join(FIX, fixture); // the storage initializer's /mnt/models
      const r = await serve(
        [...cmd.filter((a, i) => !/_port$/.test(a) && !/_port$/.test(cmd[i - 1] ?? '')), '--model_name', 'm'],
        {
          ...d.env,
        },
        join(dest, linkedBin(d)),
      );
      expect((await post(`${r.base}/v1/models/m:predict`, body)).body.predictions).toEqual(predictions);
      expect(await stop(r)).toBe(0);
    });
  });
});
