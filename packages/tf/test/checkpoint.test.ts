import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Checkpoint, OBJECT_GRAPH_KEY } from '../src/checkpoint/bundle.js';
import { crc32c, crc32cExtend, maskCrc, unmaskCrc } from '../src/checkpoint/crc32c.js';
import { snappyDecompress } from '../src/checkpoint/snappy.js';
import { readTable } from '../src/checkpoint/sstable.js';
import { encodeMessage } from '../src/proto/tf-schema.js';
import { loadSavedModel } from '../src/saved-model/load.js';
import { writeTable } from '../src/saved-model/writer.js';
import { copyFixture, fixture } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'servekit-tf-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('crc32c', () => {
  it('matches the standard check value and extends incrementally', () => {
    const bytes = new TextEncoder().encode('123456789');
    expect(crc32c(bytes)).toBe(0xe3069283);
    expect(crc32cExtend(crc32c(bytes.subarray(0, 4)), bytes.subarray(4))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });
  it('masks and unmasks', () => {
    for (const v of [0, 1, 0xe3069283, 0xffffffff]) expect(unmaskCrc(maskCrc(v))).toBe(v);
    expect(maskCrc(0)).toBe(0xa282ead8);
  });
});

describe('snappy', () => {
  it('decodes literals and back-references (including overlapping copies)', () => {
    // "abcd" literal, then copy-1 (len 8, offset 4) → "abcdabcdabcd", then literal "!".
    const block = Uint8Array.from([13, 3 << 2, 97, 98, 99, 100, ((8 - 4) << 2) | 1, 4, 0, 33]);
    expect(Buffer.from(snappyDecompress(block)).toString()).toBe('abcdabcdabcd!');
    // copy-2 form: len 3 offset 1 after "z" → "zzzz".
    expect(Buffer.from(snappyDecompress(Uint8Array.from([4, 0, 122, (2 << 2) | 2, 1, 0]))).toString()).toBe('zzzz');
  });
  it('rejects malformed input', () => {
    expect(() => snappyDecompress(Uint8Array.from([5, 0, 97, (3 << 2) | 2, 9, 0]))).toThrow(/offset/);
    expect(() => snappyDecompress(Uint8Array.from([10, 0, 97]))).toThrow(/produced 1 bytes/);
  });
});

describe('checkpoint bundle', () => {
  it('reads a Snappy-compressed index written by a LevelDB-format writer', () => {
    const value = new Float32Array([1.5, -2, 3.25]);
    const bytes = new Uint8Array(value.buffer);
    const entry = encodeMessage('BundleEntryProto', {
      dtype: 1,
      shape: { dim: [{ size: 3 }] },
      shard_id: 0,
      offset: 0,
      size: bytes.length,
      crc32c: maskCrc(crc32c(bytes)),
    });
    const header = encodeMessage('BundleHeaderProto', { num_shards: 1 });
    const prefix = join(tmp, 'snappy', 'ckpt');
    mkdirSync(join(tmp, 'snappy'));
    writeFileSync(
      `${prefix}.index`,
      writeTable(
        [
          ['', header],
          ['dense/kernel', entry],
        ],
        true,
      ),
    );
    writeFileSync(`${prefix}.data-00000-of-00001`, bytes);
    const ck = Checkpoint.open(prefix);
    expect(ck.keys()).toEqual(['dense/kernel']);
    const t = ck.read('dense/kernel');
    expect(t.shape).toEqual([3]);
    expect(Array.from(new Float32Array(t.bytes!.buffer))).toEqual([1.5, -2, 3.25]);
  });

  it('detects a corrupt index block by its CRC', () => {
    const table = writeTable([['', encodeMessage('BundleHeaderProto', { num_shards: 1 })]], false);
    table[1]! ^= 1;
    expect(() => readTable(table)).toThrow(/CRC32C mismatch/);
  });

  it('reads the TF1 half_plus_two checkpoint with its variable values', () => {
    const ck = Checkpoint.open(fixture('serving_half_plus_two_cpu/00000123/variables/variables'));
    expect(ck.keys().sort()).toEqual(['a', 'a2', 'b', 'c', 'c2']);
    const value = (k: string): number => new DataView(ck.read(k).bytes!.buffer).getFloat32(0, true);
    expect([value('a'), value('b'), value('c')]).toEqual([0.5, 2, 3]);
  });

  it('reads a TF2 object-graph string tensor and object-based keys', () => {
    const ck = Checkpoint.open(fixture('tfrust_keras_single_input/variables/variables'));
    const graph = ck.read(OBJECT_GRAPH_KEY);
    expect(graph.strings?.length).toBe(1);
    expect(ck.keys().some((k) => k.endsWith('/.ATTRIBUTES/VARIABLE_VALUE'))).toBe(true);
  });

  it('parses the raw SSTable: header entry first, keys sorted', () => {
    const entries = readTable(readFileSync(fixture('tfjs_int64_multiply/variables/variables.index')));
    expect(entries[0]!.key).toBe('');
    const keys = entries.map((e) => e.key);
    expect([...keys].sort()).toEqual(keys);
  });

  it('reports a flipped byte in a data shard as a CRC32C mismatch when loading', async () => {
    const dir = copyFixture('tfjs_times_three_float', join(tmp, 'flipped'));
    const data = join(dir, 'variables', 'variables.data-00000-of-00001');
    const bytes = readFileSync(data);
    const ck = Checkpoint.open(join(dir, 'variables', 'variables'));
    // Flip one byte inside the float variable's value (not the object graph).
    const key = ck.keys().find((k) => k !== OBJECT_GRAPH_KEY)!;
    const entryBytes = ck.read(key).bytes!;
    const at = bytes.indexOf(Buffer.from(entryBytes));
    expect(at).toBeGreaterThanOrEqual(0);
    bytes[at]! ^= 0x40;
    writeFileSync(data, bytes);
    await expect(loadSavedModel(dir, { backend: 'cpu' })).rejects.toThrow(/CRC32C mismatch.*corrupt/);
  });

  it('reports a truncated index file clearly', async () => {
    const dir = copyFixture('tfjs_times_three_float', join(tmp, 'truncated-index'));
    const index = join(dir, 'variables', 'variables.index');
    const bytes = readFileSync(index);
    writeFileSync(index, bytes.subarray(0, bytes.length - 10));
    await expect(loadSavedModel(dir, { backend: 'cpu' })).rejects.toThrow(
      /variables\.index is malformed: bad SSTable magic/,
    );
  });

  it('reports a truncated data shard clearly', async () => {
    const dir = copyFixture('tfrust_keras_single_input', join(tmp, 'truncated-data'));
    const data = join(dir, 'variables', 'variables.data-00000-of-00001');
    const bytes = readFileSync(data);
    writeFileSync(data, bytes.subarray(0, 100));
    await expect(loadSavedModel(dir, { backend: 'cpu' })).rejects.toThrow(
      /past the end of data shard 0 \(truncated file\)/,
    );
  });
});
