// The `servekit` bin is a committed stub (bin/servekit.js), so `npm ci` in a clone links node_modules/.bin/servekit
// before `tsc -b` has built dist/: a bin pointing into dist/ is not linked, or linked without its execute bit.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
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
