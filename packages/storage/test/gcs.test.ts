import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerPath } from '../src/atomic-dir.js';
import { download, resolveModelDir, StorageError } from '../src/index.js';
import { gcsEndpoint } from '../src/sources/gcs.js';
import { irisFiles, listDir, memoryLogger, readTree, tempDir } from './helpers/fixtures.js';
import { type FakeGcs, startFakeGcs } from './helpers/gcs.js';

const iris = irisFiles();
const email = 'model-reader@servekit-test.iam.gserviceaccount.com';
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
let gcs: FakeGcs;
let work: string;
let goodCreds: string;
let badCreds: string;

const opts = (env: Record<string, string>, extra = {}) => ({
  logger: memoryLogger(),
  env: { STORAGE_EMULATOR_HOST: gcs.url.replace('http://', ''), ...env },
  retryBaseDelayMs: 5,
  progressStream: false as const,
  ...extra,
});

beforeAll(async () => {
  work = await tempDir('gcs');
  gcs = await startFakeGcs({
    publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    clientEmail: email,
    privateBuckets: ['private-models'],
    pageSize: 2,
  });
  for (const [name, data] of iris) {
    gcs.put('public-models', `xgb/iris/${name}`, data);
    gcs.put('private-models', `nested/deeper/iris/${name}`, data);
  }
  gcs.put('public-models', 'xgb/iris/extra/nested/readme.txt', Buffer.from('nested\n'));
  gcs.put('public-models', 'xgb/iris-sibling/other.txt', Buffer.from('not me'));
  gcs.put('public-models', 'flaky/model.bin', randomBytes(2 * 1024 * 1024));
  gcs.put('public-models', 'broken/model.bin', randomBytes(2 * 1024 * 1024));
  const creds = (key: typeof keys.privateKey) =>
    JSON.stringify({
      type: 'service_account',
      project_id: 'servekit-test',
      private_key_id: 'k1',
      private_key: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      token_uri: `${gcs.url}/token`,
    });
  goodCreds = join(work, 'sa.json');
  badCreds = join(work, 'sa-wrong.json');
  await writeFile(goodCreds, creds(keys.privateKey));
  await writeFile(badCreds, creds(otherKeys.privateKey));
});

afterAll(async () => {
  await gcs?.close();
  await rm(work, { recursive: true, force: true });
});

describe('gs:// against a GCS JSON API server', () => {
  it('downloads a public prefix anonymously, across list pages, keeping nested folders', async () => {
    const dir = await resolveModelDir('gs://public-models/xgb/iris', { ...opts({}), cacheDir: join(work, 'cache') });
    const tree = await readTree(dir);
    expect([...tree.keys()].sort()).toEqual([...iris.keys(), 'extra/nested/readme.txt'].sort());
    for (const [name, data] of iris) expect(tree.get(name)!.equals(data)).toBe(true);
    const lists = gcs.requests.filter((r) => r.url.startsWith('/storage/v1/b/public-models/o?'));
    expect(lists.length).toBeGreaterThan(1);
  });

  it('uses a service-account token from GOOGLE_APPLICATION_CREDENTIALS for a private bucket', async () => {
    const dest = join(work, 'private');
    await download('gs://private-models/nested/deeper/iris', dest, opts({ GOOGLE_APPLICATION_CREDENTIALS: goodCreds }));
    expect([...(await readTree(dest)).keys()].sort()).toEqual([...iris.keys()].sort());
    expect(gcs.requests.filter((r) => r.url === '/token').length).toBe(1);
  });

  it('reports missing credentials for a private bucket read anonymously', async () => {
    const err = (await download('gs://private-models/nested', join(work, 'anon'), opts({})).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(err.code).toBe('NO_CREDENTIALS');
    expect(err.message).toContain('GOOGLE_APPLICATION_CREDENTIALS');
  });

  it('reports credentials the token endpoint rejects', async () => {
    const dest = join(work, 'bad-creds');
    const err = (await download(
      'gs://private-models/nested',
      dest,
      opts({ GOOGLE_APPLICATION_CREDENTIALS: badCreds }),
    ).catch((e: unknown) => e)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.code).toBe('NO_CREDENTIALS');
    expect(err.message).toContain('invalid_grant');
    expect(err.message).not.toContain('PRIVATE KEY');
    expect(existsSync(dest)).toBe(false);
  });

  it('reports a missing bucket', async () => {
    const err = (await download('gs://no-such-bucket/m', join(work, 'nb'), opts({})).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('gs://no-such-bucket/m');
    expect(err.message).toContain('bucket does not exist');
  });

  it('skips the download on restart when generations are unchanged (no media GET)', async () => {
    const cacheDir = join(work, 'cache-restart');
    const count = () =>
      [...gcs.mediaGets.entries()].filter(([k]) => k.startsWith('xgb/iris/')).reduce((a, [, n]) => a + n, 0);
    await resolveModelDir('gs://public-models/xgb/iris/', { ...opts({}), cacheDir });
    const after = count();
    const logger = memoryLogger();
    await resolveModelDir('gs://public-models/xgb/iris/', { ...opts({}, { logger }), cacheDir });
    expect(count()).toBe(after);
    expect(logger.lines.join('\n')).toContain('using cached');
  });

  it('resumes a media download cut mid-body', async () => {
    gcs.cut('flaky/model.bin', 1);
    const dest = join(work, 'flaky');
    await download('gs://public-models/flaky', dest, opts({}));
    expect((await readTree(dest)).get('model.bin')!.length).toBe(2 * 1024 * 1024);
    const ranged = gcs.requests.filter((r) => r.url.includes('flaky%2Fmodel.bin') && r.headers.range !== undefined);
    expect(ranged.length).toBe(1);
  });

  it('fails clearly after retries when every attempt is cut; no partial directory', async () => {
    gcs.cut('broken/model.bin', 100);
    const dest = join(work, 'broken');
    const err = (await download('gs://public-models/broken', dest, opts({}, { maxAttempts: 3 })).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(err.code).toBe('NETWORK');
    expect(err.object).toBe('broken/model.bin');
    expect(gcs.mediaGets.get('broken/model.bin')).toBe(3);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(markerPath(dest))).toBe(false);
    expect((await listDir(work)).filter((n) => n.startsWith('.broken.tmp'))).toEqual([]);
  });

  it('takes the endpoint from STORAGE_EMULATOR_HOST with or without a scheme', () => {
    expect(gcsEndpoint({})).toBe('https://storage.googleapis.com');
    expect(gcsEndpoint({ STORAGE_EMULATOR_HOST: 'localhost:4443' })).toBe('http://localhost:4443');
    expect(gcsEndpoint({ STORAGE_EMULATOR_HOST: 'https://gcs.local/' })).toBe('https://gcs.local');
  });
});
