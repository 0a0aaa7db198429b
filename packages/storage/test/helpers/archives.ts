import { crc32, deflateRawSync, gzipSync } from 'node:zlib';

/** One entry of a test archive. */
export interface TestEntry {
  name: string;
  data?: Buffer | string;
  /** 'file' (default), 'dir', 'symlink' (data = target) or 'hardlink' (data = linked name). */
  type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  mode?: number;
}

/** Write an octal numeric field padded with NUL. */
function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

/** A ustar header block (names up to 100 bytes; longer ones go in a GNU 'L' record). */
function tarHeader(name: string, size: number, type: string, linkName = '', mode = 0o644): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 1_700_000_000);
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, 'latin1');
  h.write(linkName, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

/** Data padded to a 512-byte boundary. */
function padded(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([data, Buffer.alloc(pad)]);
}

/** A tar archive holding `entries` (written verbatim: no name checks, so it can be malicious). */
export function makeTar(entries: TestEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const type = e.type ?? 'file';
    if (Buffer.byteLength(e.name) > 100) {
      const longName = Buffer.from(`${e.name}\0`);
      parts.push(tarHeader('././@LongLink', longName.length, 'L'), padded(longName));
    }
    const name = e.name.slice(0, 100);
    if (type === 'file') parts.push(tarHeader(name, data.length, '0', '', e.mode), padded(data));
    else if (type === 'dir') parts.push(tarHeader(name, 0, '5', '', 0o755));
    else parts.push(tarHeader(name, 0, type === 'symlink' ? '2' : '1', data.toString()));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A gzipped tar archive. */
export function makeTgz(entries: TestEntry[]): Buffer {
  return gzipSync(makeTar(entries));
}

/** A zip archive (deflated files; symlinks as unix-mode entries; names written verbatim). */
export function makeZip(entries: TestEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const type = e.type ?? 'file';
    const raw = Buffer.from(e.data ?? '');
    const deflate = type === 'file' && raw.length > 0;
    const body = deflate ? deflateRawSync(raw) : raw;
    const name = Buffer.from(type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name);
    const crc = crc32(raw) >>> 0;
    const unixMode = type === 'symlink' ? 0o120777 : type === 'dir' ? 0o040755 : 0o100000 | (e.mode ?? 0o644);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((unixMode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}
