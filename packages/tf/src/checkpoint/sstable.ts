import { crc32cExtend, unmaskCrc } from './crc32c.js';
import { snappyDecompress } from './snappy.js';

/** One key/value pair of an SSTable. */
export interface TableEntry {
  /** Key bytes decoded as latin1 (checkpoint keys are ASCII). */
  key: string;
  /** Value bytes. */
  value: Uint8Array;
}

const FOOTER_SIZE = 48;
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;

interface Cursor {
  buf: Uint8Array;
  pos: number;
}

function varint(c: Cursor, what: string): number {
  let result = 0;
  for (let shift = 0; shift < 64; shift += 7) {
    if (c.pos >= c.buf.length) throw new Error(`truncated varint in ${what}`);
    const b = c.buf[c.pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return result;
  }
  throw new Error(`bad varint in ${what}`);
}

interface BlockHandle {
  offset: number;
  size: number;
}

function blockHandle(c: Cursor, what: string): BlockHandle {
  return { offset: varint(c, what), size: varint(c, what) };
}

/** Read a block's contents (verifying its masked CRC-32C trailer and decompressing Snappy). */
function readBlock(file: Uint8Array, h: BlockHandle, what: string): Uint8Array {
  if (h.offset + h.size + 5 > file.length)
    throw new Error(`${what} block at ${h.offset}+${h.size} lies past the end of the file`);
  const data = file.subarray(h.offset, h.offset + h.size);
  const type = file[h.offset + h.size]!;
  const dv = new DataView(file.buffer, file.byteOffset + h.offset + h.size + 1, 4);
  const stored = unmaskCrc(dv.getUint32(0, true));
  const actual = crc32cExtend(crc32cExtend(0, data), file.subarray(h.offset + h.size, h.offset + h.size + 1));
  if (stored !== actual) throw new Error(`${what} block at offset ${h.offset}: CRC32C mismatch (file is corrupt)`);
  if (type === 0) return data;
  if (type === 1) return snappyDecompress(data);
  throw new Error(`${what} block at offset ${h.offset}: unknown compression type ${type}`);
}

/** The entries of one block (prefix-compressed keys, restart array at the end). */
function blockEntries(block: Uint8Array, what: string): TableEntry[] {
  if (block.length < 4) throw new Error(`${what} block too short`);
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const numRestarts = dv.getUint32(block.length - 4, true);
  const limit = block.length - 4 - numRestarts * 4;
  if (limit < 0) throw new Error(`${what} block has a bad restart count`);
  const entries: TableEntry[] = [];
  const c: Cursor = { buf: block.subarray(0, limit), pos: 0 };
  let key = new Uint8Array(0);
  while (c.pos < limit) {
    const shared = varint(c, what);
    const nonShared = varint(c, what);
    const valueLen = varint(c, what);
    if (shared > key.length || c.pos + nonShared + valueLen > limit)
      throw new Error(`${what} block entry is malformed`);
    const next = new Uint8Array(shared + nonShared);
    next.set(key.subarray(0, shared));
    next.set(c.buf.subarray(c.pos, c.pos + nonShared), shared);
    c.pos += nonShared;
    key = next;
    entries.push({ key: Buffer.from(key).toString('latin1'), value: c.buf.subarray(c.pos, c.pos + valueLen) });
    c.pos += valueLen;
  }
  return entries;
}

/** Every entry of a LevelDB-format SSTable (TensorFlow's checkpoint `.index` file), in key order. */
export function readTable(file: Uint8Array): TableEntry[] {
  if (file.length < FOOTER_SIZE) throw new Error(`file is ${file.length} bytes, shorter than an SSTable footer`);
  const footer = file.subarray(file.length - FOOTER_SIZE);
  const fdv = new DataView(footer.buffer, footer.byteOffset, FOOTER_SIZE);
  if (fdv.getUint32(40, true) !== MAGIC_LO || fdv.getUint32(44, true) !== MAGIC_HI) {
    throw new Error('bad SSTable magic number (not a checkpoint index, or truncated)');
  }
  const c: Cursor = { buf: footer, pos: 0 };
  blockHandle(c, 'footer'); // metaindex: unused
  const index = blockHandle(c, 'footer');
  const out: TableEntry[] = [];
  for (const ie of blockEntries(readBlock(file, index, 'index'), 'index')) {
    const handle = blockHandle({ buf: ie.value, pos: 0 }, 'index entry');
    out.push(...blockEntries(readBlock(file, handle, 'data'), 'data'));
  }
  return out;
}
