// Cold start: importing @servekit/storage and resolving a local folder loads no AWS SDK module; it loads when an
// s3:// URI is resolved. Runs the built package (dist, `tsc -b`) in a fresh process.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/** How many AWS SDK modules a fresh Node process has loaded after importing the package and running `steps`. */
async function loadedAfter(steps: string): Promise<{ sdk: number }> {
  const script = `
    import { createRequire } from 'node:module';
    const storage = await import(${JSON.stringify(`${DIST}index.js`)});
    const { createSource } = await import(${JSON.stringify(`${DIST}sources/create.js`)});
    ${steps}
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const sdk = cache.filter((k) => /@aws-sdk|@smithy/.test(k)).length;
    console.log(JSON.stringify({ sdk }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout.trim()) as { sdk: number };
}

describe('storage sources load lazily', () => {
  it('resolving a local folder loads no AWS SDK module; an s3:// source does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'servekit-lazy-'));
    try {
      const local = await loadedAfter(
        `const out = await storage.resolveModelDir(${JSON.stringify(dir)}); if (out !== ${JSON.stringify(dir)}) throw new Error(out);`,
      );
      expect(local.sdk).toBe(0);
      const s3 = await loadedAfter(
        `await createSource(storage.parseStorageUri('s3://bucket/model'), { env: { AWS_REGION: 'us-east-1' }, idleTimeoutMs: 1000, checkContentType: true, pvcRoot: '/mnt/pvc' });`,
      );
      expect(s3.sdk).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
