import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerPath } from '../src/atomic-dir.js';
import { download, resolveModelDir, StorageError } from '../src/index.js';
import { s3ClientConfig } from '../src/sources/s3-config.js';
import { makeTgz } from './helpers/archives.js';
import { irisFiles, listDir, memoryLogger, readTree, tempDir } from './helpers/fixtures.js';
import { startS3, type TestS3 } from './helpers/s3.js';

const iris = irisFiles();
let s3: TestS3;
let work: string;

const opts = (extra = {}) => ({
  logger: memoryLogger(),
  env: s3.env,
  retryBaseDelayMs: 5,
  progressStream: false as const,
  ...extra,
});
const objectGets = (prefix: string) =>
  s3.requests.filter((r) => r.method === 'GET' && r.url.startsWith(prefix) && !r.url.includes('list-type')).length;

beforeAll(async () => {
  work = await tempDir('s3');
  s3 = await startS3(join(work, 's3rver-data'), ['models', 'many']);
  for (const [name, data] of iris) {
    await s3.put('models', `iris/${name}`, data);
    await s3.put('models', `deep/a/b/iris/${name}`, data);
  }
  await s3.put('models', 'iris/extra/nested/readme.txt', Buffer.from('nested\n'));
  await s3.put('models', 'iris-other/not-me.txt', Buffer.from('sibling prefix'));
  await s3.put('models', 'archives/model.tgz', makeTgz([...iris].map(([name, data]) => ({ name, data }))));
  for (let i = 0; i < 16; i++) await s3.put('many', `part-${String(i).padStart(2, '0')}.bin`, randomBytes(256 * 1024));
});

afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

describe('s3:// with s3rver', () => {
  it('downloads every object under a prefix, keeping nested folders', async () => {
    const dir = await resolveModelDir('s3://models/iris', { ...opts(), cacheDir: join(work, 'cache') });
    const tree = await readTree(dir);
    expect([...tree.keys()].sort()).toEqual([...iris.keys(), 'extra/nested/readme.txt'].sort());
    for (const [name, data] of iris) expect(tree.get(name)!.equals(data)).toBe(true);
  });

  it('handles a nested prefix with a trailing slash', async () => {
    const dest = join(work, 'deep');
    const result = await download('s3://models/deep/a/b/iris/', dest, opts());
    expect([...(await readTree(dest)).keys()].sort()).toEqual([...iris.keys()].sort());
    expect(result.files).toBe(iris.size);
  });

  it('downloads a single object when the URI names it', async () => {
    const dest = join(work, 'single');
    await download('s3://models/iris/model.json', dest, opts());
    expect([...(await readTree(dest)).keys()]).toEqual(['model.json']);
  });

  it('unpacks a single archive object', async () => {
    const dest = join(work, 'archive');
    await download('s3://models/archives/model.tgz', dest, opts());
    expect([...(await readTree(dest)).keys()].sort()).toEqual([...iris.keys()].sort());
  });

  it('downloads objects in parallel, bounded by concurrency', async () => {
    s3.resetInFlight();
    const dest = join(work, 'many');
    const result = await download('s3://many', dest, opts({ concurrency: 4 }));
    expect(result.files).toBe(16);
    expect(s3.maxInFlight()).toBeGreaterThan(1);
    expect(s3.maxInFlight()).toBeLessThanOrEqual(4);
  });

  it('skips the download on restart when the ETags are unchanged (no GetObject)', async () => {
    const cacheDir = join(work, 'cache-restart');
    const before = objectGets('/models/deep/');
    const first = await resolveModelDir('s3://models/deep/a/b/iris', { ...opts(), cacheDir });
    const getsAfterFirst = objectGets('/models/deep/');
    expect(getsAfterFirst - before).toBe(iris.size);
    const logger = memoryLogger();
    const second = await resolveModelDir('s3://models/deep/a/b/iris', { ...opts({ logger }), cacheDir });
    expect(second).toBe(first);
    expect(objectGets('/models/deep/')).toBe(getsAfterFirst);
    expect(logger.lines.join('\n')).toContain('using cached');
  });

  it('downloads again when an object changed in the store', async () => {
    await s3.put('models', 'changing/model.json', Buffer.from('{"v":1}'));
    const dest = join(work, 'changing');
    await download('s3://models/changing', dest, opts());
    await s3.put('models', 'changing/model.json', Buffer.from('{"v":2}'));
    const again = await download('s3://models/changing', dest, opts());
    expect(again.cached).toBe(false);
    expect((await readTree(dest)).get('model.json')!.toString()).toBe('{"v":2}');
  });

  it('reports wrong credentials, leaving no directory', async () => {
    const dest = join(work, 'wrong-creds');
    const env = { ...s3.env, AWS_ACCESS_KEY_ID: 'NOT-A-KEY' };
    const err = (await download('s3://models/iris', dest, opts({ env })).catch((e: unknown) => e)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.code).toBe('NO_CREDENTIALS');
    expect(err.message).toContain('s3://models/iris');
    expect(err.message).toContain('InvalidAccessKeyId');
    expect(err.message).not.toContain('S3RVER');
    expect(existsSync(dest)).toBe(false);
  });

  it('reports a missing bucket', async () => {
    const err = (await download('s3://no-such-bucket/model', join(work, 'nb'), opts()).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('bucket no-such-bucket does not exist');
  });

  it('reports an empty prefix as not found', async () => {
    const err = (await download('s3://models/nothing-here', join(work, 'np'), opts()).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('no objects under prefix "nothing-here"');
  });

  it('reads anonymously with awsAnonymousCredential (no Authorization header)', async () => {
    const before = s3.requests.length;
    const env = { AWS_ENDPOINT_URL: s3.url, awsAnonymousCredential: 'true' };
    await download('s3://models/iris/model.json', join(work, 'anon'), opts({ env }));
    const sent = s3.requests.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('accepts S3_ENDPOINT + S3_USE_HTTPS=0 instead of AWS_ENDPOINT_URL', async () => {
    const env = {
      ...s3.env,
      AWS_ENDPOINT_URL: undefined,
      S3_ENDPOINT: s3.url.replace('http://', ''),
      S3_USE_HTTPS: '0',
    };
    const result = await download('s3://models/iris/model.bst', join(work, 's3-endpoint'), opts({ env }));
    expect(result.files).toBe(1);
  });

  it('streams a 200 MB object with flat memory', async () => {
    const size = 200 * 1024 * 1024;
    const src = join(tmpdir(), `servekit-storage-big-${process.pid}.bin`);
    const block = randomBytes(1024 * 1024);
    const fh = await open(src, 'w');
    for (let i = 0; i < size / block.length; i++) {
      block[0] = i & 0xff;
      await fh.write(block);
    }
    await fh.close();
    try {
      await s3.put('models', 'big/model.bin', { path: src, size });
      const dest = join(work, 'big');
      const baseline = heldBytes();
      let peak = baseline;
      const result = await download('s3://models/big', dest, {
        ...opts(),
        onProgress: () => {
          peak = Math.max(peak, heldBytes());
        },
      });
      expect(result.bytesDownloaded).toBe(size);
      const growth = peak - baseline;
      console.log(`200 MB s3 download: held-memory growth ${(growth / 1048576).toFixed(1)} MB`);
      expect(growth).toBeLessThan(size / 4);
      await rm(dest, { recursive: true });
    } finally {
      await rm(src, { force: true });
    }
  }, 30_000);

  it('retries when the server dies mid-download, then fails cleanly with no partial directory', async () => {
    const dying = await startS3(join(work, 'dying-data'), ['models']);
    await dying.put('models', 'm/model.bin', randomBytes(24 * 1024 * 1024));
    const dest = join(work, 'dying');
    const logger = memoryLogger();
    let killed = false;
    const err = (await download('s3://models/m', dest, {
      ...opts({ logger, env: dying.env, maxAttempts: 3 }),
      onProgress: () => {
        if (!killed) {
          killed = true;
          void dying.close();
        }
      },
    }).catch((e: unknown) => e)) as StorageError;
    expect(killed).toBe(true);
    expect(err).toBeInstanceOf(StorageError);
    expect(err.code).toBe('NETWORK');
    expect(err.object).toBe('m/model.bin');
    expect(err.message).toContain('s3://models/m');
    expect(logger.lines.filter((l) => l.startsWith('WARN retrying m/model.bin')).length).toBe(2);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(markerPath(dest))).toBe(false);
    expect((await listDir(work)).filter((n) => n.startsWith('.dying.tmp'))).toEqual([]);
  });
});

describe('s3 client configuration from KServe env vars', () => {
  it('uses path-style for custom endpoints unless S3_USER_VIRTUAL_BUCKET is set', () => {
    expect(s3ClientConfig('s3://b', { AWS_ENDPOINT_URL: 'http://minio:9000' }, 1000).forcePathStyle).toBe(true);
    expect(
      s3ClientConfig('s3://b', { AWS_ENDPOINT_URL: 'http://minio:9000', S3_USER_VIRTUAL_BUCKET: 'true' }, 1000)
        .forcePathStyle,
    ).toBe(false);
    expect(s3ClientConfig('s3://b', {}, 1000).forcePathStyle).toBe(false);
  });

  it('builds the endpoint from S3_ENDPOINT and S3_USE_HTTPS, region from AWS_REGION/AWS_DEFAULT_REGION', () => {
    expect(s3ClientConfig('s3://b', { S3_ENDPOINT: 'minio:9000', S3_USE_HTTPS: '0' }, 1000).endpoint).toBe(
      'http://minio:9000',
    );
    expect(s3ClientConfig('s3://b', { S3_ENDPOINT: 'minio:9000' }, 1000).endpoint).toBe('https://minio:9000');
    expect(s3ClientConfig('s3://b', { AWS_DEFAULT_REGION: 'eu-west-1' }, 1000).region).toBe('eu-west-1');
    expect(s3ClientConfig('s3://b', { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-west-1' }, 1000).region).toBe(
      'us-west-2',
    );
  });

  it('reports an unreadable AWS_CA_BUNDLE', () => {
    expect(() => s3ClientConfig('s3://b', { AWS_CA_BUNDLE: '/nonexistent/ca.pem' }, 1000)).toThrow(/AWS_CA_BUNDLE/);
    expect(() =>
      s3ClientConfig('s3://b', { AWS_CA_BUNDLE: '/nonexistent/ca.pem', S3_VERIFY_SSL: '0' }, 1000),
    ).not.toThrow();
  });
});

/**
 * This process's RSS less V8's young generation. V8 sizes that from the machine's memory (Node 26: up to 53 MiB on a
 * 24 GB machine, Node 20: 32 MiB) and fills it with short-lived objects under any load, this test's S3 server's
 * included; a download that held the file would hold it off the JS heap (Buffers) or in the old generation, both
 * still counted.
 */
function heldBytes(): number {
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0;
  return process.memoryUsage.rss() - young;
}
