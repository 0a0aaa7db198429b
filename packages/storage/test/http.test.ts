import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerPath } from '../src/atomic-dir.js';
import { download, resolveModelDir, StorageError } from '../src/index.js';
import { makeTar, makeTgz, makeZip, type TestEntry } from './helpers/archives.js';
import { IRIS_DIR, irisFiles, listDir, memoryLogger, readTree, tempDir } from './helpers/fixtures.js';
import { startServer, type TestServer } from './helpers/servers.js';

const iris = irisFiles();
/** The fixture as archive entries, plus a nested file. */
const irisEntries: TestEntry[] = [
  ...[...iris].map(([name, data]) => ({ name, data })),
  { name: 'extra/', type: 'dir' },
  { name: 'extra/nested/readme.txt', data: 'nested file\n' },
];
const expectedTree = new Map<string, Buffer>([...iris, ['extra/nested/readme.txt', Buffer.from('nested file\n')]]);

const routes = new Map<string, { body: Buffer; type: string; etag?: string }>();
/** Responses to cut after half the body: path → how many more GETs to cut. */
const cutGets = new Map<string, number>();

/** Serve a body with HEAD, ETag and single-range support. */
function serve(req: IncomingMessage, res: ServerResponse, body: Buffer, type: string, etag?: string): void {
  const headers: Record<string, string> = { 'content-type': type, 'accept-ranges': 'bytes' };
  if (etag) headers.etag = etag;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  let start = 0;
  let status = 200;
  if (range && (!ifRange || ifRange === etag)) {
    start = Number(range[1]);
    status = 206;
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  }
  headers['content-length'] = String(body.length - start);
  res.writeHead(status, headers);
  if (req.method === 'HEAD') return void res.end();
  const path = req.url ?? '';
  const cuts = cutGets.get(path) ?? 0;
  if (cuts > 0) {
    cutGets.set(path, cuts - 1);
    res.write(body.subarray(start, start + Math.floor((body.length - start) / 2)), () => res.destroy());
    return;
  }
  res.end(body.subarray(start));
}

let server: TestServer;
let work: string;

beforeAll(async () => {
  work = await tempDir('http');
  const add = (path: string, body: Buffer, type = 'application/octet-stream', withEtag = true) =>
    routes.set(path, { body, type, etag: withEtag ? `"${createHash('md5').update(body).digest('hex')}"` : undefined });
  for (const [name, data] of iris) add(`/files/${name}`, data);
  add('/archives/model.tar', makeTar(irisEntries), 'application/x-tar');
  add('/archives/model.tar.gz', makeTgz(irisEntries), 'application/gzip');
  add('/archives/model.tgz', makeTgz(irisEntries), 'application/octet-stream');
  add('/archives/model.zip', makeZip(irisEntries), 'application/zip');
  add('/archives/wrongtype.zip', makeZip(irisEntries), 'text/html');
  add('/bad-type/model.json', iris.get('model.json')!, 'text/html; charset=utf-8');
  add('/noetag/model.bst', iris.get('model.bst')!, 'application/octet-stream', false);
  add(
    '/evil/slip.tar',
    makeTar([
      { name: 'ok.txt', data: 'ok' },
      { name: '../escaped.txt', data: 'pwned' },
    ]),
    'application/x-tar',
  );
  add(
    '/evil/slip.zip',
    makeZip([
      { name: 'ok.txt', data: 'ok' },
      { name: 'a/../../escaped.txt', data: 'pwned' },
    ]),
    'application/zip',
  );
  add('/evil/abs.tgz', makeTgz([{ name: '/tmp/servekit-escaped.txt', data: 'pwned' }]), 'application/gzip');
  add('/evil/abs.zip', makeZip([{ name: '/tmp/servekit-escaped.txt', data: 'pwned' }]), 'application/zip');
  add(
    '/evil/symlink.tar',
    makeTar([{ name: 'passwd', type: 'symlink', data: '../../../../etc/passwd' }]),
    'application/x-tar',
  );
  add('/evil/symlink-abs.zip', makeZip([{ name: 'passwd', type: 'symlink', data: '/etc/passwd' }]), 'application/zip');
  add(
    '/evil/symlink-chain.tar',
    makeTar([
      { name: 'l1', type: 'symlink', data: '.' },
      { name: 'l2', type: 'symlink', data: 'l1/..' },
    ]),
    'application/x-tar',
  );
  add(
    '/archives/safe-links.tar',
    makeTar([
      { name: 'weights/model.bst', data: iris.get('model.bst')! },
      { name: 'model.bst', type: 'symlink', data: 'weights/model.bst' },
      { name: 'copy.bst', type: 'hardlink', data: 'weights/model.bst' },
    ]),
    'application/x-tar',
  );
  add('/bomb.tgz', makeTgz([{ name: 'zeros.bin', data: Buffer.alloc(8 * 1024 * 1024) }]), 'application/gzip');
  add('/bomb.zip', makeZip([{ name: 'zeros.bin', data: Buffer.alloc(8 * 1024 * 1024) }]), 'application/zip');
  add('/cut/model.bst', Buffer.alloc(4 * 1024 * 1024, 7));
  add('/flaky/model.bst', Buffer.alloc(4 * 1024 * 1024, 9));
  add('/headers/model.bst', iris.get('model.bst')!);
  add('/bad-md5/model.bst', iris.get('model.bst')!);

  server = await startServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/error/model.bst') return void res.writeHead(503).end('try later');
    if (path === '/stall/model.bst') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
      if (req.method === 'HEAD') return void res.end();
      return void res.write(Buffer.alloc(10)); // then never another byte
    }
    if (path === '/headers/model.bst' && req.headers['x-token'] !== 'secret')
      return void res.writeHead(401).end('no token');
    const route = routes.get(path);
    if (!route) return void res.writeHead(404).end('no such file');
    if (path === '/bad-md5/model.bst') res.setHeader('content-md5', createHash('md5').update('other').digest('base64'));
    serve(req, res, route.body, route.type, route.etag);
  });
});

afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

const opts = (extra = {}) => ({
  logger: memoryLogger(),
  env: {},
  retryBaseDelayMs: 5,
  progressStream: false as const,
  ...extra,
});
const gets = (path: string) => server.requests.filter((r) => r.method === 'GET' && r.url.split('?')[0] === path).length;

describe('http(s):// single files', () => {
  it('downloads one file into the cache and serves it from there', async () => {
    const cacheDir = join(work, 'cache1');
    const dir = await resolveModelDir(`${server.url}/files/model.json`, { ...opts(), cacheDir });
    expect(dir.startsWith(cacheDir)).toBe(true);
    const tree = await readTree(dir);
    expect([...tree.keys()]).toEqual(['model.json']);
    expect(tree.get('model.json')!.equals(iris.get('model.json')!)).toBe(true);
    expect(existsSync(markerPath(dir))).toBe(true);
  });

  it('reuses the download on restart: HEAD only, no second GET', async () => {
    const cacheDir = join(work, 'cache-restart');
    const uri = `${server.url}/files/model.ubj`;
    const first = await resolveModelDir(uri, { ...opts(), cacheDir });
    expect(gets('/files/model.ubj')).toBe(1);
    const logger = memoryLogger();
    const second = await resolveModelDir(uri, { ...opts({ logger }), cacheDir });
    expect(second).toBe(first);
    expect(gets('/files/model.ubj')).toBe(1);
    expect(logger.lines.some((l) => l.includes('using cached'))).toBe(true);
  });

  it('downloads again when the server gives no validator to compare', async () => {
    const dest = join(work, 'noetag');
    await download(`${server.url}/noetag/model.bst`, dest, opts());
    const again = await download(`${server.url}/noetag/model.bst`, dest, opts());
    expect(again.cached).toBe(false);
    expect(gets('/noetag/model.bst')).toBe(2);
  });

  it('sends per-host headers from the <hostname>-headers env var', async () => {
    const uri = `${server.url}/headers/model.bst`;
    const denied = await download(uri, join(work, 'hdr-denied'), opts()).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(StorageError);
    expect((denied as StorageError).code).toBe('NO_CREDENTIALS');
    const env = { '127.0.0.1-headers': JSON.stringify({ 'X-Token': 'secret' }) };
    const result = await download(uri, join(work, 'hdr-ok'), opts({ env }));
    expect(result.files).toBe(1);
  });

  it('refuses a Content-Type that does not fit, like KServe', async () => {
    const err = (await download(`${server.url}/bad-type/model.json`, join(work, 'ct'), opts()).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(err.code).toBe('CONTENT_TYPE');
    expect(err.message).toContain('text/html');
    const zipErr = (await download(`${server.url}/archives/wrongtype.zip`, join(work, 'ct2'), opts()).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(zipErr.code).toBe('CONTENT_TYPE');
    expect(await listDir(join(work, 'ct'))).toEqual([]);
    const ok = await download(
      `${server.url}/bad-type/model.json`,
      join(work, 'ct3'),
      opts({ checkContentType: false }),
    );
    expect(ok.files).toBe(1);
  });

  it('names the URI and cause for 404 and exhausted 5xx retries', async () => {
    const missing = (await download(`${server.url}/nope/model.bst`, join(work, 'nf'), opts()).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain(`${server.url}/nope/model.bst`);
    const before = server.requests.filter((r) => r.url === '/error/model.bst').length;
    const busy = (await download(`${server.url}/error/model.bst`, join(work, 'busy'), opts({ maxAttempts: 3 })).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(busy.code).toBe('SERVER_ERROR');
    expect(busy.message).toContain('503');
    expect(server.requests.filter((r) => r.url === '/error/model.bst').length - before).toBe(3);
  });

  it('fails integrity when Content-MD5 does not match, leaving nothing behind', async () => {
    const dest = join(work, 'md5');
    const err = (await download(`${server.url}/bad-md5/model.bst`, dest, opts({ maxAttempts: 2 })).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(err.code).toBe('INTEGRITY');
    expect(err.object).toBe('model.bst');
    expect(await listDir(work)).not.toContain('md5');
    expect((await listDir(work)).filter((n) => n.startsWith('.md5.tmp'))).toEqual([]);
  });
});

describe('http(s):// interrupted downloads', () => {
  it('resumes with a Range request after the connection drops mid-body', async () => {
    cutGets.set('/flaky/model.bst', 1);
    const logger = memoryLogger();
    const dest = join(work, 'flaky');
    const result = await download(`${server.url}/flaky/model.bst`, dest, opts({ logger }));
    expect(result.files).toBe(1);
    const tree = await readTree(dest);
    expect(tree.get('model.bst')!.equals(routes.get('/flaky/model.bst')!.body)).toBe(true);
    const ranged = server.requests.filter((r) => r.url === '/flaky/model.bst' && r.method === 'GET');
    expect(ranged.length).toBe(2);
    expect(ranged[1].headers.range).toMatch(/^bytes=\d+-$/);
    expect(logger.lines.some((l) => l.startsWith('WARN retrying model.bst'))).toBe(true);
  });

  it('retries, then fails clearly when every attempt is cut; no partial directory', async () => {
    cutGets.set('/cut/model.bst', 100);
    const dest = join(work, 'cut');
    const err = (await download(`${server.url}/cut/model.bst`, dest, opts({ maxAttempts: 3 })).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain('/cut/model.bst');
    expect(err.object).toBe('model.bst');
    expect(gets('/cut/model.bst')).toBe(3);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(markerPath(dest))).toBe(false);
    expect((await listDir(work)).filter((n) => n.startsWith('.cut.tmp'))).toEqual([]);
    cutGets.delete('/cut/model.bst');
  });

  it('times out a stalled transfer with TIMEOUT after retries', async () => {
    const dest = join(work, 'stall');
    const err = (await download(
      `${server.url}/stall/model.bst`,
      dest,
      opts({ idleTimeoutMs: 300, maxAttempts: 2 }),
    ).catch((e: unknown) => e)) as StorageError;
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toContain('no data for 300 ms');
    expect(gets('/stall/model.bst')).toBe(2);
    expect(existsSync(dest)).toBe(false);
  });

  it('fails with NETWORK when the server is gone', async () => {
    const gone = await startServer((_req, res) => void res.end());
    const url = `${gone.url}/files/model.bst`;
    await gone.close();
    const err = (await download(url, join(work, 'gone'), opts({ maxAttempts: 2 })).catch(
      (e: unknown) => e,
    )) as StorageError;
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('http(s):// archives', () => {
  for (const name of ['model.tar', 'model.tar.gz', 'model.tgz', 'model.zip']) {
    it(`unpacks ${name} with its nested folders`, async () => {
      const dest = join(work, `unpacked-${name}`);
      const result = await download(`${server.url}/archives/${name}`, dest, opts());
      const tree = await readTree(dest);
      expect([...tree.keys()].sort()).toEqual([...expectedTree.keys()].sort());
      for (const [k, v] of expectedTree) expect(tree.get(k)!.equals(v)).toBe(true);
      expect(result.files).toBe(expectedTree.size);
    });
  }

  it('unpacks links that stay inside the model directory', async () => {
    const dest = join(work, 'safe-links');
    await download(`${server.url}/archives/safe-links.tar`, dest, opts());
    const tree = await readTree(dest);
    expect(tree.get('weights/model.bst')!.equals(iris.get('model.bst')!)).toBe(true);
    expect(tree.get('copy.bst')!.equals(iris.get('model.bst')!)).toBe(true);
    const { readFile, lstat } = await import('node:fs/promises');
    expect((await lstat(join(dest, 'model.bst'))).isSymbolicLink()).toBe(true);
    expect((await readFile(join(dest, 'model.bst'))).equals(iris.get('model.bst')!)).toBe(true);
  });

  const evil: Array<[string, RegExp]> = [
    ['slip.tar', /\.\./],
    ['slip.zip', /\.\./],
    ['abs.tgz', /absolute/],
    ['abs.zip', /absolute/],
    ['symlink.tar', /outside/],
    ['symlink-abs.zip', /absolute/],
    ['symlink-chain.tar', /outside/],
  ];
  for (const [name, why] of evil) {
    it(`refuses the malicious archive ${name} and writes nothing`, async () => {
      const dest = join(work, `evil-${name}`);
      const err = (await download(`${server.url}/evil/${name}`, dest, opts()).catch((e: unknown) => e)) as StorageError;
      expect(err).toBeInstanceOf(StorageError);
      expect(err.code).toBe('UNSAFE_ARCHIVE');
      expect(err.message).toMatch(why);
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(join(work, 'escaped.txt'))).toBe(false);
      expect(existsSync('/tmp/servekit-escaped.txt')).toBe(false);
      expect((await listDir(work)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    });
  }

  for (const name of ['bomb.tgz', 'bomb.zip']) {
    it(`caps the unpacked size (${name})`, async () => {
      const dest = join(work, name);
      const err = (await download(`${server.url}/${name}`, dest, opts({ maxUnpackedBytes: 1024 * 1024 })).catch(
        (e: unknown) => e,
      )) as StorageError;
      expect(err.code).toBe('TOO_LARGE');
      expect(existsSync(dest)).toBe(false);
    });
  }

  const hasTools = (() => {
    try {
      execFileSync('tar', ['--version'], { stdio: 'ignore' });
      execFileSync('zip', ['-v'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasTools)('unpacks archives made by the system tar and zip', async () => {
    const src = join(work, 'tools-src');
    await mkdir(join(src, 'sub'), { recursive: true });
    for (const [name, data] of iris) await writeFile(join(src, name), data);
    await writeFile(join(src, 'sub', 'deep.txt'), 'deep');
    const long = `${'d'.repeat(60)}/${'f'.repeat(80)}.txt`;
    await mkdir(join(src, 'd'.repeat(60)), { recursive: true });
    await writeFile(join(src, long), 'long name');
    execFileSync('tar', ['czf', join(work, 'tools.tgz'), '-C', src, '.']);
    execFileSync('zip', ['-qr', join(work, 'tools.zip'), '.'], { cwd: src });
    const { readFile } = await import('node:fs/promises');
    routes.set('/tools/model.tgz', { body: await readFile(join(work, 'tools.tgz')), type: 'application/x-gzip' });
    routes.set('/tools/model.zip', { body: await readFile(join(work, 'tools.zip')), type: 'application/zip' });
    const want = await readTree(src);
    for (const name of ['model.tgz', 'model.zip']) {
      const dest = join(work, `tools-${name}`);
      await download(`${server.url}/tools/${name}`, dest, opts());
      const tree = await readTree(dest);
      expect([...tree.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, v] of want) expect(tree.get(k)!.equals(v)).toBe(true);
    }
  });
});

describe('local paths', () => {
  it('serves file:// and plain paths in place', async () => {
    const logger = memoryLogger();
    expect(await resolveModelDir(`file://${IRIS_DIR}`, { logger })).toBe(IRIS_DIR);
    expect(await resolveModelDir(IRIS_DIR, { logger })).toBe(IRIS_DIR);
  });

  it('unpacks a local archive into the cache', async () => {
    const archive = join(work, 'local-model.tgz');
    await writeFile(archive, makeTgz(irisEntries));
    const dir = await resolveModelDir(archive, { ...opts(), cacheDir: join(work, 'cache-local') });
    expect([...(await readTree(dir)).keys()].sort()).toEqual([...expectedTree.keys()].sort());
  });
});
