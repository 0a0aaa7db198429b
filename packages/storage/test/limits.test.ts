// Storage bombs and leftovers: unpack caps proportionate to the archive, entry counts checked before writing,
// declared sizes checked against free disk space, and temp dirs of killed processes removed at start.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_ARCHIVE_ENTRIES,
  DEFAULT_MAX_UNPACK_RATIO,
  DEFAULT_MAX_UNPACKED_BYTES,
  UNPACK_FREE_BYTES,
  unpackCap,
} from '../src/download.js';
import { download, resolveModelDir, StorageError } from '../src/index.js';
import { makeTgz, makeZip } from './helpers/archives.js';
import { listDir, memoryLogger, tempDir } from './helpers/fixtures.js';
import { startServer, type TestServer } from './helpers/servers.js';

const MiB = 1024 * 1024;
const routes = new Map<string, { body: Buffer; type: string; headSize?: number }>();
let server: TestServer;
let work: string;

/** A zip whose central directory declares `size` bytes for every entry (the data itself is empty). */
function zipDeclaring(count: number, size: number): Buffer {
  const zip = makeZip(Array.from({ length: count }, (_, i) => ({ name: `f${i}.bin` })));
  for (let p = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); p >= 0; ) {
    zip.writeUInt32LE(size, p + 24);
    p = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), p + 4);
  }
  return zip;
}

/** A zip of `count` small files whose first entry's compressed data is corrupt. */
function zipWithCorruptFirstEntry(count: number): Buffer {
  const zip = makeZip(Array.from({ length: count }, (_, i) => ({ name: `f${i}.txt`, data: `file ${i} `.repeat(20) })));
  const nameLength = zip.readUInt16LE(26);
  zip[30 + nameLength + 2]! ^= 0xff;
  return zip;
}

beforeAll(async () => {
  work = await tempDir('limits');
  // 80 MiB of zeros gzip to ~80 KB: a 1000× bomb, the small brother of a 10 MB tar.gz unpacking to 10 GiB.
  routes.set('/bomb/model.tgz', {
    body: makeTgz([{ name: 'zeros.bin', data: Buffer.alloc(80 * MiB) }]),
    type: 'application/gzip',
  });
  routes.set('/entries/model.zip', {
    body: zipWithCorruptFirstEntry(DEFAULT_MAX_ARCHIVE_ENTRIES + 1),
    type: 'application/zip',
  });
  routes.set('/entries-small/model.zip', { body: zipWithCorruptFirstEntry(6), type: 'application/zip' });
  routes.set('/huge-zip/model.zip', { body: zipDeclaring(300, 0xfffffff0), type: 'application/zip' });
  routes.set('/huge-file/model.bst', {
    body: Buffer.from('tiny'),
    type: 'application/octet-stream',
    headSize: 2 ** 50,
  });
  server = await startServer((req, res) => {
    const route = routes.get((req.url ?? '').split('?')[0]!);
    if (!route) return void res.writeHead(404).end('no such file');
    if (req.method === 'HEAD' && route.headSize !== undefined) {
      return void res.writeHead(200, { 'content-type': route.type, 'content-length': String(route.headSize) }).end();
    }
    res.writeHead(200, { 'content-type': route.type, 'content-length': String(route.body.length) });
    res.end(req.method === 'HEAD' ? undefined : route.body);
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
const failure = async (p: Promise<unknown>): Promise<StorageError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  return err as StorageError;
};
const gets = (path: string) => server.requests.filter((r) => r.method === 'GET' && r.url.split('?')[0] === path).length;

describe('unpack caps proportionate to the archive', () => {
  it('defaults: 8 GiB at most, and 50× the archive beyond the first 64 MiB', () => {
    expect(DEFAULT_MAX_UNPACKED_BYTES).toBe(8 * 1024 * MiB);
    expect(DEFAULT_MAX_UNPACK_RATIO).toBe(50);
    expect(UNPACK_FREE_BYTES).toBe(64 * MiB);
    expect(unpackCap(10 * 1000 * 1000, {})).toBe(500 * 1000 * 1000); // a 10 MB tar.gz: 500 MB, not 10 GiB
    expect(unpackCap(1000, {})).toBe(64 * MiB);
    expect(unpackCap(1024 * MiB, {})).toBe(8 * 1024 * MiB);
    expect(unpackCap(10 * MiB, { maxUnpackRatio: 1000, maxUnpackedBytes: 2 * 1024 * MiB })).toBe(2 * 1024 * MiB);
  });

  it('a tar.gz bomb is refused with the default limits, leaving nothing in the cache', async () => {
    const dest = join(work, 'bomb');
    const err = await failure(download(`${server.url}/bomb/model.tgz`, dest, opts()));
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toMatch(/over|more than the 67108864-byte cap/);
    expect(existsSync(dest)).toBe(false);
    expect((await listDir(work)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    // The operator can raise the ratio for a model that really is mostly zeros.
    const ok = await download(
      `${server.url}/bomb/model.tgz`,
      join(work, 'bomb-allowed'),
      opts({ maxUnpackRatio: 2000 }),
    );
    expect(ok.files).toBe(1);
  });
});

describe('entry counts and declared sizes are checked before anything is written', () => {
  it(`a zip of ${DEFAULT_MAX_ARCHIVE_ENTRIES + 1} entries is refused from its central directory, before its first entry is read`, async () => {
    // The first entry is corrupt: had it been unpacked, the error would be BAD_ARCHIVE.
    const err = await failure(download(`${server.url}/entries/model.zip`, join(work, 'entries'), opts()));
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toMatch(
      `declares ${DEFAULT_MAX_ARCHIVE_ENTRIES + 1} entries, over the ${DEFAULT_MAX_ARCHIVE_ENTRIES}-entry cap`,
    );
    const small = await failure(
      download(`${server.url}/entries-small/model.zip`, join(work, 'entries-small'), opts({ maxArchiveEntries: 5 })),
    );
    expect(small.message).toMatch(/declares 6 entries, over the 5-entry cap/);
    const allowed = await failure(download(`${server.url}/entries-small/model.zip`, join(work, 'entries-ok'), opts()));
    expect(allowed.code).toBe('BAD_ARCHIVE');
  });

  it('a zip declaring more bytes than the free disk space is refused before unpacking', async () => {
    const unlimited = { maxUnpackedBytes: Number.POSITIVE_INFINITY, maxUnpackRatio: Number.POSITIVE_INFINITY };
    const err = await failure(download(`${server.url}/huge-zip/model.zip`, join(work, 'huge-zip'), opts(unlimited)));
    expect(err.code).toBe('NO_SPACE');
    expect(err.message).toMatch(/not enough disk space .*unpacking model\.zip needs .* but only .* is free/);
    const capped = await failure(download(`${server.url}/huge-zip/model.zip`, join(work, 'huge-zip-2'), opts()));
    expect(capped.code).toBe('TOO_LARGE');
  });

  it('a download whose declared size exceeds the free disk space is refused before any GET', async () => {
    const err = await failure(download(`${server.url}/huge-file/model.bst`, join(work, 'huge-file'), opts()));
    expect(err.code).toBe('NO_SPACE');
    expect(gets('/huge-file/model.bst')).toBe(0);
  });
});

describe('temp dirs of killed processes', () => {
  it('are removed at start, whatever URI they were for, including those of a dead process with our pid', async () => {
    const cache = join(work, 'cache');
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    const leftovers = {
      dead: `.other-model-0123456789abcdef.tmp-${deadPid}-abc123`,
      // A restarted container's server gets the same pid (1) as the killed one.
      samePid: `.another-0123456789abcdef.tmp-${process.pid}-zz9`,
      alive: `.busy-0123456789abcdef.tmp-${process.ppid}-q1`,
    };
    for (const name of Object.values(leftovers)) {
      await mkdir(join(cache, name, 'model'), { recursive: true });
      await writeFile(join(cache, name, 'model', 'weights.bin'), Buffer.alloc(1024));
    }
    await writeFile(join(cache, 'not-a-temp.txt'), 'kept');
    const archive = join(work, 'local.tgz');
    await writeFile(archive, makeTgz([{ name: 'model.txt', data: 'tree\n' }]));
    const logger = memoryLogger();
    await resolveModelDir(archive, { ...opts(), logger, cacheDir: cache });
    const names = await listDir(cache);
    expect(names).not.toContain(leftovers.dead);
    expect(names).not.toContain(leftovers.samePid);
    expect(names).toContain(leftovers.alive);
    expect(names).toContain('not-a-temp.txt');
    expect(logger.lines.join('\n')).toMatch(/removed 2 unfinished download\(s\)/);
  });
});
