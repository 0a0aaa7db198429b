import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerPath } from '../src/atomic-dir.js';
import { cacheKey, download, parseStorageUri, resolveModelDir, StorageError } from '../src/index.js';
import { safeRelativePath } from '../src/safe-path.js';
import { IRIS_DIR, irisFiles, memoryLogger, readTree, tempDir } from './helpers/fixtures.js';
import { startServer } from './helpers/servers.js';

const iris = irisFiles();
let work: string;

beforeAll(async () => {
  work = await tempDir('resolve');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const quiet = (extra = {}) => ({
  logger: memoryLogger(),
  env: {},
  progressStream: false as const,
  retryBaseDelayMs: 5,
  ...extra,
});

describe('storage URI parsing', () => {
  it('recognizes every scheme', () => {
    expect(parseStorageUri('s3://bucket/a/b')).toMatchObject({ kind: 's3', bucket: 'bucket', prefix: 'a/b' });
    expect(parseStorageUri('gs://bucket')).toMatchObject({ kind: 'gs', bucket: 'bucket', prefix: '' });
    expect(parseStorageUri('pvc://claim/models/iris')).toMatchObject({
      kind: 'pvc',
      claim: 'claim',
      path: 'models/iris',
    });
    expect(parseStorageUri('file:///opt/model')).toMatchObject({ kind: 'local', path: '/opt/model' });
    expect(parseStorageUri('/opt/model')).toMatchObject({ kind: 'local', path: '/opt/model' });
    expect(parseStorageUri('https://h/x/model.tgz?sig=1')).toMatchObject({ kind: 'http' });
  });

  it('rejects unknown schemes and empty buckets with INVALID_URI', () => {
    for (const bad of ['hdfs://nn/model', 's3://', 'gs:///prefix', '']) {
      const err = (() => {
        try {
          parseStorageUri(bad);
        } catch (e) {
          return e;
        }
      })() as StorageError;
      expect(err).toBeInstanceOf(StorageError);
      expect(err.code).toBe('INVALID_URI');
    }
  });

  it('normalizes names and refuses escaping ones', () => {
    expect(safeRelativePath('./a//b/c')).toEqual({ ok: true, path: 'a/b/c' });
    expect(safeRelativePath('a\\..\\..\\x').ok).toBe(false);
    expect(safeRelativePath('C:/windows').ok).toBe(false);
    expect(safeRelativePath('/etc/passwd').ok).toBe(false);
  });

  it('keys the cache by the whole URI with a readable slug', () => {
    expect(cacheKey('s3://b/models/iris')).toMatch(/^iris-[0-9a-f]{16}$/);
    expect(cacheKey('https://h/x/model.tar.gz?sig=abc')).toMatch(/^model-[0-9a-f]{16}$/);
    expect(cacheKey('s3://b/models/iris')).not.toBe(cacheKey('s3://b/models/iris2'));
  });
});

describe('resolveModelDir for local and pvc URIs', () => {
  it('maps pvc://name/path under the configurable PVC root, in place', async () => {
    const pvcRoot = join(work, 'pvc');
    await mkdir(join(pvcRoot, 'my-claim', 'models'), { recursive: true });
    await writeFile(join(pvcRoot, 'my-claim', 'models', 'model.json'), iris.get('model.json')!);
    const dir = await resolveModelDir('pvc://my-claim/models', { ...quiet(), pvcRoot });
    expect(dir).toBe(join(pvcRoot, 'my-claim', 'models'));
  });

  it('refuses pvc paths escaping the claim and reports missing ones', async () => {
    const pvcRoot = join(work, 'pvc');
    await expect(resolveModelDir('pvc://my-claim/../../etc', { ...quiet(), pvcRoot })).rejects.toMatchObject({
      code: 'INVALID_URI',
    });
    await expect(resolveModelDir('pvc://my-claim/nope', { ...quiet(), pvcRoot })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('serves file:// in place and reports a missing path', async () => {
    expect(await resolveModelDir(`file://${IRIS_DIR}`, quiet())).toBe(IRIS_DIR);
    const err = (await resolveModelDir('file:///nonexistent/model', quiet()).catch((e: unknown) => e)) as StorageError;
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('file:///nonexistent/model');
  });
});

describe('download() destination handling', () => {
  it('copies a local directory atomically and writes the marker beside it', async () => {
    const dest = join(work, 'copy');
    const result = await download(IRIS_DIR, dest, quiet());
    expect(result.files).toBe(iris.size);
    const marker = JSON.parse(await readFile(markerPath(dest), 'utf8')) as { uri: string; complete: boolean };
    expect(marker).toMatchObject({ uri: IRIS_DIR, complete: true });
    expect((await download(IRIS_DIR, dest, quiet())).cached).toBe(true);
  });

  it('refuses to clobber a non-empty directory it did not write, unless overwrite', async () => {
    const dest = join(work, 'users-dir');
    await mkdir(dest, { recursive: true });
    await writeFile(join(dest, 'precious.txt'), 'keep me');
    const err = (await download(IRIS_DIR, dest, quiet()).catch((e: unknown) => e)) as StorageError;
    expect(err.code).toBe('DESTINATION');
    expect(await readFile(join(dest, 'precious.txt'), 'utf8')).toBe('keep me');
    await download(IRIS_DIR, dest, quiet({ overwrite: true }));
    expect(existsSync(join(dest, 'precious.txt'))).toBe(false);
    expect([...(await readTree(dest)).keys()].sort()).toEqual([...iris.keys()].sort());
  });

  it('uses the cached copy when the store is unreachable, and skips revalidation when asked', async () => {
    const body = iris.get('model.bst')!;
    const server = await startServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        etag: '"v1"',
        'content-length': String(body.length),
      });
      res.end(_req.method === 'HEAD' ? undefined : body);
    });
    const uri = `${server.url}/m/model.bst`;
    const dest = join(work, 'offline');
    await download(uri, dest, quiet());
    const countBefore = server.requests.length;
    expect((await download(uri, dest, quiet({ revalidate: false }))).cached).toBe(true);
    expect(server.requests.length).toBe(countBefore);
    await server.close();
    const logger = memoryLogger();
    const result = await download(uri, dest, quiet({ logger, maxAttempts: 1 }));
    expect(result.cached).toBe(true);
    expect(logger.lines.some((l) => l.includes('cannot reach the store'))).toBe(true);
  });

  it('draws progress on a TTY stream', async () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WritableStream;
    const big = join(work, 'big-local');
    await mkdir(big, { recursive: true });
    await writeFile(join(big, 'weights.bin'), Buffer.alloc(8 * 1024 * 1024, 1));
    await download(big, join(work, 'big-copy'), { ...quiet(), progressStream: tty });
    expect(written.some((s) => s.startsWith('\r') && s.includes('MB'))).toBe(true);
  });
});
