// builtWorkerUrl: a worker script is found beside a built module, in ../dist beside a .ts source, and a missing one
// is an error naming the package to build.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { builtWorkerUrl } from '../src/worker-url.js';

const root = mkdtempSync(join(tmpdir(), 'servekit-worker-url-'));
mkdirSync(join(root, 'src'));
mkdirSync(join(root, 'dist'));
writeFileSync(join(root, 'dist', 'thread.js'), '');

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('builtWorkerUrl', () => {
  it('finds the script beside a built module (dist, or an installed package)', () => {
    const url = builtWorkerUrl(pathToFileURL(join(root, 'dist', 'index.js')).href, 'thread.js', '@x/pkg');
    expect(fileURLToPath(url)).toBe(join(root, 'dist', 'thread.js'));
  });

  it('finds the built script in ../dist beside a .ts source (tests run src)', () => {
    const url = builtWorkerUrl(pathToFileURL(join(root, 'src', 'index.ts')).href, 'thread.js', '@x/pkg');
    expect(fileURLToPath(url)).toBe(join(root, 'dist', 'thread.js'));
  });

  it('names the package to build when the script is missing', () => {
    const from = pathToFileURL(join(root, 'src', 'index.ts')).href;
    expect(() => builtWorkerUrl(from, 'absent.js', '@x/pkg')).toThrow(/absent\.js is missing: build @x\/pkg/);
  });
});

describe('the real worker scripts', () => {
  it('resolve from the sources of @servekit/onnx and @servekit/sklearn', () => {
    const onnx = new URL('../../onnx/src/session-worker.ts', import.meta.url).href;
    const sklearn = new URL('../../sklearn/src/load-isolated.ts', import.meta.url).href;
    expect(fileURLToPath(builtWorkerUrl(onnx, 'session-thread.js', '@servekit/onnx'))).toMatch(
      /onnx[/\\]dist[/\\]session-thread\.js$/,
    );
    expect(fileURLToPath(builtWorkerUrl(sklearn, 'load-worker.js', '@servekit/sklearn'))).toMatch(
      /sklearn[/\\]dist[/\\]load-worker\.js$/,
    );
  });
});
