import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import type { ExtractTarget } from './extract-target.js';

/** One central-directory record. */
interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  unixMode: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_CENTRAL_DIR = 512 * 1024 * 1024;

/** Read exactly `length` bytes at `position`. */
async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await file.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Locate and parse the central directory (ZIP64 aware). */
async function readCentralDirectory(file: FileHandle, fileSize: number, target: ExtractTarget): Promise<ZipEntry[]> {
  const tailLength = Math.min(fileSize, 22 + 65535);
  const tail = await readAt(file, fileSize - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw target.bad('not a zip archive (no end of central directory)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locatorAt = eocd - 20;
    if (locatorAt < 0 || tail.readUInt32LE(locatorAt) !== ZIP64_LOCATOR) throw target.bad('ZIP64 locator missing');
    const record = await readAt(file, Number(tail.readBigUInt64LE(locatorAt + 8)), 56);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD)
      throw target.bad('ZIP64 end of central directory missing');
    count = Number(record.readBigUInt64LE(32));
    cdSize = Number(record.readBigUInt64LE(40));
    cdOffset = Number(record.readBigUInt64LE(48));
  }
  target.checkEntryCount(count);
  if (cdSize > MAX_CENTRAL_DIR || cdOffset + cdSize > fileSize) throw target.bad('central directory out of bounds');
  const cd = await readAt(file, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 46 > cd.length || cd.readUInt32LE(pos) !== CENTRAL) throw target.bad('corrupt central directory');
    const madeBy = cd.readUInt16LE(pos + 4);
    const nameLength = cd.readUInt16LE(pos + 28);
    const extraLength = cd.readUInt16LE(pos + 30);
    const commentLength = cd.readUInt16LE(pos + 32);
    const external = cd.readUInt32LE(pos + 38);
    const entry: ZipEntry = {
      flags: cd.readUInt16LE(pos + 8),
      method: cd.readUInt16LE(pos + 10),
      crc: cd.readUInt32LE(pos + 16),
      compressedSize: cd.readUInt32LE(pos + 20),
      size: cd.readUInt32LE(pos + 24),
      localOffset: cd.readUInt32LE(pos + 42),
      name: cd.subarray(pos + 46, pos + 46 + nameLength).toString('utf8'),
      unixMode: madeBy >> 8 === 3 ? external >>> 16 : 0,
    };
    applyZip64Extra(entry, cd.subarray(pos + 46 + nameLength, pos + 46 + nameLength + extraLength));
    entries.push(entry);
    pos += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Replace 0xffffffff sizes/offset with the values of the ZIP64 extra field. */
function applyZip64Extra(entry: ZipEntry, extra: Buffer): void {
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const next = (): number => {
        const v = Number(extra.readBigUInt64LE(q));
        q += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localOffset === 0xffffffff) entry.localOffset = next();
      return;
    }
    p += 4 + len;
  }
}

/** Decompressed chunks of an entry, CRC- and size-checked at the end. */
async function* entryData(
  path: string,
  dataStart: number,
  entry: ZipEntry,
  target: ExtractTarget,
): AsyncGenerator<Uint8Array> {
  if (entry.method !== 0 && entry.method !== 8)
    throw target.bad(`"${entry.name}" uses unsupported compression method ${entry.method}`);
  const raw: Readable =
    entry.compressedSize === 0
      ? Readable.from([])
      : createReadStream(path, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  let stream: Readable = raw;
  if (entry.method === 8) {
    const inflater = createInflateRaw();
    raw.on('error', (err) => inflater.destroy(err));
    stream = raw.pipe(inflater);
  }
  let crc = 0;
  let size = 0;
  try {
    for await (const chunk of stream) {
      crc = crc32(chunk, crc);
      size += chunk.byteLength;
      if (size > entry.size) throw target.bad(`"${entry.name}" inflates past its declared ${entry.size} bytes`);
      yield chunk;
    }
  } catch (err) {
    if (String((err as { code?: unknown }).code).startsWith('Z_')) {
      throw target.bad(`"${entry.name}" has corrupt compressed data`, err);
    }
    throw err;
  } finally {
    stream.destroy();
    raw.destroy();
  }
  if (size !== entry.size) throw target.bad(`"${entry.name}" has ${size} bytes, its header says ${entry.size}`);
  if (crc >>> 0 !== entry.crc >>> 0) throw target.bad(`"${entry.name}" fails its CRC-32 check`);
}

/** Unpack the zip file at `path` into `target` (stored and deflated entries; symlinks checked by the target). */
export async function extractZip(path: string, target: ExtractTarget): Promise<void> {
  const file = await open(path, 'r');
  try {
    const { size: fileSize } = await file.stat();
    const entries = await readCentralDirectory(file, fileSize, target);
    await target.checkDeclaredSpace(entries.reduce((sum, e) => sum + e.size, 0));
    for (const entry of entries) {
      if (entry.flags & 0x1) throw target.bad(`"${entry.name}" is encrypted`);
      const local = await readAt(file, entry.localOffset, 30);
      if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw target.bad(`"${entry.name}" has no local header`);
      const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      if (dataStart + entry.compressedSize > fileSize)
        throw target.bad(`"${entry.name}" data runs past the end of the file`);
      const kind = entry.unixMode & 0o170000;
      if (kind === 0o120000) {
        if (entry.size > 4096) throw target.bad(`symlink "${entry.name}" target is too long`);
        const parts: Buffer[] = [];
        for await (const chunk of entryData(path, dataStart, entry, target)) parts.push(Buffer.from(chunk));
        target.symlink(entry.name, Buffer.concat(parts).toString('utf8'));
      } else if (entry.name.endsWith('/') || kind === 0o040000) {
        await target.dir(entry.name);
      } else if (kind !== 0 && kind !== 0o100000) {
        throw target.unsafe(entry.name, 'is a device, FIFO or socket');
      } else {
        await target.file(entry.name, entry.unixMode & 0o777, entryData(path, dataStart, entry, target));
      }
    }
  } finally {
    await file.close();
  }
}
