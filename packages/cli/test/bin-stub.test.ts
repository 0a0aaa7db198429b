// The `servekit` bin is a committed stub (bin/servekit.js), so `npm ci` in a clone links node_modules/.bin/servekit
// before `tsc -b` has built dist/: a bin pointing into dist/ is not linked, or linked without its execute bit.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './cli-process.js';

const STUB = join(ROOT, 'packages/cli/bin/servekit.js');
const tmp = mkdtempSync(join(tmpdir(), 'servekit-bin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the servekit bin', () => {
  it('is a committed, executable file outside dist/', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as {
      bin: Record<string, string>;
      files: string[];
    };
    expect(manifest.bin).toEqual({ servekit: './bin/servekit.js' });
    expect(manifest.files).toContain('bin');
    const staged = execFileSync('git', ['ls-files', '-s', 'packages/cli/bin/servekit.js'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(staged, 'git add packages/cli/bin/servekit.js with mode 100755').toMatch(/^100755 /);
  });

  it('is linked by npm into node_modules/.bin and runs the built CLI', () => {
    expect(realpathSync(join(ROOT, 'node_modules/.bin/servekit'))).toBe(realpathSync(STUB));
    const out = spawnSync(join(ROOT, 'node_modules/.bin/servekit'), ['--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('servekit serve --model_dir DIR');
  });

  it('says to build when dist/ is missing', () => {
    mkdirSync(join(tmp, 'bin'));
    copyFileSync(STUB, join(tmp, 'bin/servekit.js'));
    writeFileSync(join(tmp, 'package.json'), JSON.stringify({ type: 'module' })); // as packages/cli/package.json
    const out = spawnSync(process.execPath, [join(tmp, 'bin/servekit.js'), '--help'], { encoding: 'utf8' });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('run `npx tsc -b`');
  });
});

describe('the servekit bin and the bundle', () => {
  /** A source checkout's layout: packages/cli (bin, tsconfig, dist/bin.js, dist/bundle) and packages/core. */
  function checkout(
    root: string,
    withTsconfig: boolean,
  ): { run: (env?: Record<string, string>, args?: string[]) => string; bundleStamp: string; coreInfo: string } {
    const cli = join(root, 'packages/cli');
    mkdirSync(join(cli, 'bin'), { recursive: true });
    mkdirSync(join(cli, 'dist/bundle'), { recursive: true });
    mkdirSync(join(root, 'packages/core'), { recursive: true });
    copyFileSync(STUB, join(cli, 'bin/servekit.js'));
    writeFileSync(join(cli, 'package.json'), JSON.stringify({ type: 'module' }));
    if (withTsconfig) writeFileSync(join(cli, 'tsconfig.json'), '{}');
    writeFileSync(join(cli, 'dist/bin.js'), "process.stdout.write('dist');\n");
    writeFileSync(join(cli, 'dist/bundle/servekit.js'), "process.stdout.write('bundle');\n");
    const bundleStamp = join(cli, 'dist/bundle/bundle.json');
    writeFileSync(bundleStamp, '{}');
    const coreInfo = join(root, 'packages/core/tsconfig.tsbuildinfo');
    writeFileSync(coreInfo, '{}');
    const run = (env: Record<string, string> = {}, args: string[] = []) =>
      spawnSync(process.execPath, [join(cli, 'bin/servekit.js'), ...args], {
        encoding: 'utf8',
        env: { ...process.env, SERVEKIT_BUNDLE: '', SERVEKIT_MODEL_MODULE: '', ...env },
      }).stdout;
    return { run, bundleStamp, coreInfo };
  }
  const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

  it('runs the bundle when present and newer than every package build, else dist/bin.js', () => {
    const c = checkout(join(tmp, 'checkout'), true);
    at(c.coreInfo, 1_000_000);
    at(c.bundleStamp, 2_000_000);
    expect(c.run()).toBe('bundle');
    // `tsc -b` rebuilt a package after the bundle: the bundle is stale, so the compiled CLI runs.
    at(c.coreInfo, 3_000_000);
    expect(c.run()).toBe('dist');
    at(c.bundleStamp, 4_000_000);
    expect(c.run()).toBe('bundle');
    rmSync(c.bundleStamp);
    expect(c.run()).toBe('dist');
  });

  it('installed (no tsconfig beside it) runs the bundle whatever the times; SERVEKIT_BUNDLE=0 runs dist/bin.js', () => {
    const c = checkout(join(tmp, 'installed'), false);
    at(c.coreInfo, 3_000_000);
    at(c.bundleStamp, 1_000_000);
    expect(c.run()).toBe('bundle');
    expect(c.run({ SERVEKIT_BUNDLE: '0' })).toBe('dist');
  });

  it('a custom model (--model_module, its alias or env var) runs dist/bin.js: it must share @servekit/core', () => {
    const c = checkout(join(tmp, 'custom'), false);
    expect(c.run({}, ['serve', '--model_module', 'm.js'])).toBe('dist');
    expect(c.run({}, ['serve', '--model-module=m.js'])).toBe('dist');
    expect(c.run({ SERVEKIT_MODEL_MODULE: 'm.js' }, ['serve'])).toBe('dist');
    expect(c.run({}, ['serve', '--model_dir', 'd'])).toBe('bundle');
  });
});
