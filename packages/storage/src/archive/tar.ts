import { ByteReader } from './byte-reader.js';
import type { ExtractTarget } from './extract-target.js';

const BLOCK = 512;
/** Longest GNU long-name or pax header read into memory. */
const MAX_META = 1024 * 1024;

/** NUL-terminated string field of a header. */
function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
}

/** Numeric field: octal text, or GNU base-256 when the high bit of the first byte is set. */
function numeric(header: Buffer, offset: number, length: number): number {
  const raw = header.subarray(offset, offset + length);
  if (raw[0] & 0x80) {
    let value = raw[0] & 0x7f;
    for (let i = 1; i < raw.length; i++) value = value * 256 + raw[i];
    return value;
  }
  const text = raw.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** True when the header's checksum field matches its bytes. */
function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum === numeric(header, 148, 8);
}

/** Records of a pax extended header (`len key=value\n` ...). */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number.parseInt(data.subarray(pos, space).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= 0 || pos + len > data.length) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/**
 * Unpack a tar stream (ustar, GNU long names, pax headers) into `target`, streaming file data.
 * Symlinks and hard links are handed to the target's checks; devices, FIFOs and sparse files are refused.
 */
export async function extractTar(input: AsyncIterable<Uint8Array>, target: ExtractTarget): Promise<void> {
  const reader = new ByteReader(input);
  const short = () => target.bad('truncated tar data');
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  let sawHeader = false;
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (header.length === 0) break;
      if (header.length < BLOCK) throw short();
      if (header.every((b) => b === 0)) break;
      if (!checksumOk(header)) throw target.bad(sawHeader ? 'corrupt tar header (bad checksum)' : 'not a tar archive');
      sawHeader = true;
      const type = String.fromCharCode(header[156] || 0x30);
      let size = numeric(header, 124, 12);
      const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
      const prefix = ustar ? field(header, 345, 155) : '';
      let name = field(header, 0, 100);
      if (prefix) name = `${prefix}/${name}`;
      let linkName = field(header, 157, 100);
      const mode = numeric(header, 100, 8);
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;

      if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
        if (size > MAX_META) throw target.bad(`tar metadata header of ${size} bytes is too large`);
        const data = await reader.read(size);
        if (data.length < size) throw short();
        await reader.skip(padding, short);
        if (type === 'L') longName = field(data, 0, data.length);
        else if (type === 'K') longLink = field(data, 0, data.length);
        else if (type === 'x') pax = parsePax(data);
        continue;
      }
      if (longName !== undefined) name = longName;
      if (longLink !== undefined) linkName = longLink;
      if (pax.path !== undefined) name = pax.path;
      if (pax.linkpath !== undefined) linkName = pax.linkpath;
      if (pax.size !== undefined) size = Number(pax.size);
      longName = longLink = undefined;
      pax = {};
      const dataPadding = (BLOCK - (size % BLOCK)) % BLOCK;

      switch (type) {
        case '0':
        case '7': {
          if (name.endsWith('/') && size === 0)
            await target.dir(name); // old tar: directory as a file named "x/"
          else await target.file(name, mode, reader.take(size, short));
          break;
        }
        case '5':
          await target.dir(name);
          await reader.skip(size, short);
          break;
        case '2':
          target.symlink(name, linkName);
          await reader.skip(size, short);
          break;
        case '1':
          target.hardlink(name, linkName);
          await reader.skip(size, short);
          break;
        case '3':
        case '4':
        case '6':
          throw target.unsafe(name, 'is a device or FIFO');
        default:
          throw target.bad(`unsupported tar entry type "${type}" for "${name}"`);
      }
      await reader.skip(dataPadding, short);
    }
    if (!sawHeader) throw target.bad('empty tar archive');
  } finally {
    await reader.close();
  }
}
