import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { causeText, StorageError } from '../errors.js';
import { type ExtractLimits, ExtractTarget } from './extract-target.js';
import { archiveKindOfBytes, archiveKindOfName } from './kind.js';
import { extractTar } from './tar.js';
import { extractZip } from './zip.js';

/** What unpacking produced. */
export interface UnpackResult {
  files: number;
  bytes: number;
}

/**
 * Unpack the archive at `archivePath` into the (empty) directory `root`. The format comes from the
 * file's magic bytes (zip, gzip, ustar), falling back to the name `name` for old tar files.
 */
export async function unpackArchive(
  uri: string,
  name: string,
  archivePath: string,
  root: string,
  limits: ExtractLimits,
): Promise<UnpackResult> {
  const target = new ExtractTarget(uri, name, root, limits);
  try {
    return await unpackInto(target, name, archivePath);
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw target.bad(`cannot unpack: ${causeText(err)}`, err);
  }
}

/** Detect the format and unpack. */
async function unpackInto(target: ExtractTarget, name: string, archivePath: string): Promise<UnpackResult> {
  const handle = await open(archivePath, 'r');
  const head = Buffer.alloc(512);
  const { bytesRead } = await handle.read(head, 0, 512, 0);
  await handle.close();
  const kind =
    archiveKindOfBytes(head.subarray(0, bytesRead)) ?? (archiveKindOfName(name) === 'tar' ? 'tar' : undefined);
  if (kind === undefined) throw target.bad(`${name} is not a zip, tar or gzip file`);
  if (kind === 'zip') {
    await extractZip(archivePath, target);
  } else {
    const raw = createReadStream(archivePath);
    let stream: Readable = raw;
    if (kind === 'tar.gz') {
      const gunzip = createGunzip();
      raw.on('error', (err) => gunzip.destroy(err));
      stream = raw.pipe(gunzip);
    }
    try {
      await extractTar(stream, target);
    } catch (err) {
      if (String((err as { code?: unknown }).code).startsWith('Z_')) throw target.bad('corrupt gzip data', err);
      throw err;
    } finally {
      stream.destroy();
      raw.destroy();
    }
  }
  await target.finish();
  return { files: target.fileCount, bytes: target.byteCount };
}
