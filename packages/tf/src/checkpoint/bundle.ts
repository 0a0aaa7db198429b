import { existsSync, readFileSync } from 'node:fs';
import { dtypeName, TfDtype, tfElementSize } from '../graph/dtypes.js';
import type { HostTensor } from '../graph/host-tensor.js';
import { shapeDims } from '../graph/host-tensor.js';
import { type BundleEntryMsg, decodeBundleEntry, decodeBundleHeader } from '../proto/tf-schema.js';
import { crc32cExtend, unmaskCrc } from './crc32c.js';
import { readTable } from './sstable.js';

/** A TF2 checkpoint's serialized object graph lives under this key. */
export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';

/** An opened tensor bundle (TF checkpoint V2): its index, read eagerly; tensor data read and checked on demand. */
export class Checkpoint {
  /** Checkpoint prefix, e.g. `…/variables/variables`. */
  readonly prefix: string;
  private readonly entries: Map<string, BundleEntryMsg>;
  private readonly shards: Array<Uint8Array | undefined>;
  private readonly numShards: number;

  private constructor(prefix: string, entries: Map<string, BundleEntryMsg>, numShards: number) {
    this.prefix = prefix;
    this.entries = entries;
    this.numShards = numShards;
    this.shards = new Array(numShards);
  }

  /** Open the checkpoint at `prefix` (reads `<prefix>.index`). Throws with the file and reason when malformed. */
  static open(prefix: string): Checkpoint {
    const indexPath = `${prefix}.index`;
    if (!existsSync(indexPath)) throw new Error(`checkpoint index ${indexPath} does not exist`);
    let table: ReturnType<typeof readTable>;
    try {
      table = readTable(readFileSync(indexPath));
    } catch (err) {
      throw new Error(`checkpoint index ${indexPath} is malformed: ${(err as Error).message}`);
    }
    if (table.length === 0 || table[0]!.key !== '')
      throw new Error(`checkpoint index ${indexPath} has no header entry`);
    let numShards: number;
    const entries = new Map<string, BundleEntryMsg>();
    try {
      const header = decodeBundleHeader(table[0]!.value);
      if ((header.endianness ?? 0) !== 0) throw new Error('big-endian checkpoints are not supported');
      numShards = header.num_shards ?? 0;
      for (const e of table.slice(1)) entries.set(e.key, decodeBundleEntry(e.value));
    } catch (err) {
      throw new Error(`checkpoint index ${indexPath} is malformed: ${(err as Error).message}`);
    }
    return new Checkpoint(prefix, entries, numShards);
  }

  /** Every checkpoint key. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** True when `key` is in the checkpoint. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  private shard(id: number): Uint8Array {
    if (id < 0 || id >= this.numShards) throw new Error(`shard id ${id} out of range (${this.numShards} shards)`);
    let data = this.shards[id];
    if (data === undefined) {
      const path = `${this.prefix}.data-${String(id).padStart(5, '0')}-of-${String(this.numShards).padStart(5, '0')}`;
      if (!existsSync(path)) throw new Error(`checkpoint data file ${path} does not exist`);
      data = readFileSync(path);
      this.shards[id] = data;
    }
    return data;
  }

  /** The tensor stored under `key`, with its CRC32C verified. Throws naming the key when missing or corrupt. */
  read(key: string): HostTensor {
    const e = this.entries.get(key);
    if (e === undefined) throw new Error(`checkpoint ${this.prefix} has no tensor "${key}"`);
    if ((e.slices?.length ?? 0) > 0)
      throw new Error(`checkpoint tensor "${key}" is partitioned (slices are not supported)`);
    const dtype = e.dtype ?? 0;
    const shape = shapeDims(e.shape) ?? [];
    const offset = Number(e.offset ?? 0);
    const size = Number(e.size ?? 0);
    const shardId = e.shard_id ?? 0;
    const file = this.shard(shardId);
    if (offset + size > file.length) {
      throw new Error(`checkpoint tensor "${key}" lies past the end of data shard ${shardId} (truncated file)`);
    }
    const bytes = file.subarray(offset, offset + size);
    const where = `checkpoint tensor "${key}" (shard ${shardId}, offset ${offset})`;
    const count = shape.reduce((a, b) => a * b, 1);
    if (dtype === TfDtype.DT_STRING) {
      const { strings, crc } = readStrings(bytes, count, where);
      checkCrc(e, crc, where);
      return { dtype, shape, strings };
    }
    const elem = tfElementSize(dtype);
    if (elem === undefined) throw new Error(`${where} has unsupported dtype ${dtypeName(dtype)}`);
    if (size !== count * elem) throw new Error(`${where} holds ${size} bytes, expected ${count * elem}`);
    checkCrc(e, crc32cExtend(0, bytes), where);
    const copy = new Uint8Array(size);
    copy.set(bytes);
    return { dtype, shape, bytes: copy };
  }
}

function checkCrc(e: BundleEntryMsg, actual: number, where: string): void {
  const stored = unmaskCrc((e.crc32c ?? 0) >>> 0);
  if (stored !== actual) {
    throw new Error(
      `${where}: CRC32C mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}); the checkpoint is corrupt`,
    );
  }
}

/** Decode a string tensor: varint lengths, masked CRC of the lengths, then the bytes (tensor_bundle.cc WriteStringTensor). */
function readStrings(bytes: Uint8Array, count: number, where: string): { strings: Uint8Array[]; crc: number } {
  let pos = 0;
  let crc = 0;
  const lengths: number[] = [];
  const u64 = new Uint8Array(8);
  const u64v = new DataView(u64.buffer);
  for (let i = 0; i < count; i++) {
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= bytes.length || shift > 56) throw new Error(`${where}: truncated string length`);
      const b = bytes[pos++]!;
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    lengths.push(len);
    // Lengths up to 2^32-1 are checksummed as uint32 (older writers used only those), larger ones as uint64.
    if (len <= 0xffffffff) {
      u64v.setUint32(0, len, true);
      crc = crc32cExtend(crc, u64.subarray(0, 4));
    } else {
      u64v.setBigUint64(0, BigInt(len), true);
      crc = crc32cExtend(crc, u64);
    }
  }
  if (pos + 4 > bytes.length) throw new Error(`${where}: truncated string checksum`);
  const lenCrc = bytes.subarray(pos, pos + 4);
  if (unmaskCrc(new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getUint32(0, true)) !== crc) {
    throw new Error(`${where}: string length checksum mismatch; the checkpoint is corrupt`);
  }
  crc = crc32cExtend(crc, lenCrc);
  pos += 4;
  const strings: Uint8Array[] = [];
  for (const len of lengths) {
    if (pos + len > bytes.length) throw new Error(`${where}: truncated string data`);
    const s = bytes.subarray(pos, pos + len);
    crc = crc32cExtend(crc, s);
    strings.push(s);
    pos += len;
  }
  return { strings, crc };
}
