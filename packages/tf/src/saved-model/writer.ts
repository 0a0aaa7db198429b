// Writers for SavedModel files (saved_model.pb, checkpoints): tests, benchmarks and examples build TF models with them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32c, crc32cExtend, maskCrc } from '../checkpoint/crc32c.js';
import { encodeMessage } from '../proto/tf-schema.js';

/** Raw Snappy encoding made only of literals (valid Snappy any decoder must accept). */
export function snappyLiterals(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let n = data.length;
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  for (let i = 0; i < data.length; i += 60) {
    const chunk = data.subarray(i, i + 60);
    out.push((chunk.length - 1) << 2, ...chunk);
  }
  return Uint8Array.from(out);
}

const varint = (n: number): number[] => {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return out;
};

/** A LevelDB-format table: one data block (optionally Snappy-compressed), an index block and the footer. */
export function writeTable(entries: Array<[string, Uint8Array]>, snappy: boolean): Uint8Array {
  const block = (items: Array<[string, Uint8Array]>): Uint8Array => {
    const out: number[] = [];
    for (const [k, v] of items)
      out.push(...varint(0), ...varint(k.length), ...varint(v.length), ...Buffer.from(k, 'latin1'), ...v);
    out.push(0, 0, 0, 0, 1, 0, 0, 0); // one restart at offset 0, count 1
    return Uint8Array.from(out);
  };
  const file: number[] = [];
  const put = (raw: Uint8Array, compress: boolean): number[] => {
    const body = compress ? snappyLiterals(raw) : raw;
    const handle = [...varint(file.length), ...varint(body.length)];
    const type = Uint8Array.of(compress ? 1 : 0);
    const crc = maskCrc(crc32cExtend(crc32c(body), type));
    file.push(...body, type[0]!, crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24);
    return handle;
  };
  const dataHandle = put(block(entries), snappy);
  const metaHandle = put(block([]), false);
  const indexHandle = put(block([[entries[entries.length - 1]![0], Uint8Array.from(dataHandle)]]), snappy);
  const footer = new Uint8Array(48);
  footer.set([...metaHandle, ...indexHandle]);
  new DataView(footer.buffer).setUint32(40, 0x8b80fb57, true);
  new DataView(footer.buffer).setUint32(44, 0xdb477524, true);
  return Uint8Array.from([...file, ...footer]);
}

/** A float32 checkpoint value. */
export interface FloatVar {
  /** Dims. */
  shape: number[];
  /** Values. */
  values: number[];
}

/** Write a TF checkpoint (`<prefix>.index` + one data shard) holding float32 tensors. */
export function writeCheckpoint(prefix: string, vars: Record<string, FloatVar>, snappy = false): void {
  mkdirSync(dirname(prefix), { recursive: true });
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const entries: Array<[string, Uint8Array]> = [['', encodeMessage('BundleHeaderProto', { num_shards: 1 })]];
  for (const key of Object.keys(vars).sort()) {
    const v = vars[key]!;
    const bytes = new Uint8Array(Float32Array.from(v.values).buffer);
    entries.push([
      key,
      encodeMessage('BundleEntryProto', {
        dtype: 1,
        shape: { dim: v.shape.map((size) => ({ size })) },
        shard_id: 0,
        offset,
        size: bytes.length,
        crc32c: maskCrc(crc32c(bytes)),
      }),
    ]);
    chunks.push(bytes);
    offset += bytes.length;
  }
  writeFileSync(`${prefix}.index`, writeTable(entries, snappy));
  writeFileSync(`${prefix}.data-00000-of-00001`, Buffer.concat(chunks));
}

/** Attr helpers for hand-built NodeDefs (decoded-message shape, as `encodeMessage` takes it). */
export const attr = {
  type: (t: number) => ({ type: t }),
  types: (ts: number[]) => ({ list: { type: ts } }),
  bool: (b: boolean) => ({ b }),
  int: (i: number) => ({ i }),
  ints: (i: number[]) => ({ list: { i } }),
  str: (s: string) => ({ s: Buffer.from(s) }),
  shape: (dims: number[]) => ({ shape: { dim: dims.map((size) => ({ size })) } }),
  func: (name: string) => ({ func: { name } }),
  floats: (shape: number[], values: ArrayLike<number>) => ({
    tensor: {
      dtype: 1,
      tensor_shape: { dim: shape.map((size) => ({ size })) },
      tensor_content: new Uint8Array(Float32Array.from(values).buffer),
    },
  }),
  intTensor: (shape: number[], values: number[]) => ({
    tensor: { dtype: 3, tensor_shape: { dim: shape.map((size) => ({ size })) }, int_val: values },
  }),
};

/** A hand-built NodeDef. */
export interface NodeSpec {
  /** Node name. */
  name: string;
  /** TF op type. */
  op: string;
  /** Inputs (`node`, `node:1`, `^control`). */
  input?: string[];
  /** Attributes in AttrValue message form (see `attr`). */
  attr?: Record<string, unknown>;
}

/** A signature: input/output key → [tensor name, dtype, shape]. */
export interface SigSpec {
  /** Inputs by signature key. */
  inputs?: Record<string, [string, number, number[]]>;
  /** Outputs by signature key. */
  outputs: Record<string, [string, number, number[]]>;
}

/** Encode a SavedModel with one `serve` MetaGraph and write it to `<dir>/saved_model.pb`. */
export function writeSavedModel(
  dir: string,
  graph: {
    nodes: NodeSpec[];
    functions?: unknown[];
    ops?: unknown[];
    signatures: Record<string, SigSpec>;
    strippedDefaults?: boolean;
  },
): void {
  const info = (e: [string, number, number[]]) => ({
    name: e[0],
    dtype: e[1],
    tensor_shape: { dim: e[2].map((size) => ({ size })) },
  });
  const sigs = Object.fromEntries(
    Object.entries(graph.signatures).map(([k, s]) => [
      k,
      {
        inputs: Object.fromEntries(Object.entries(s.inputs ?? {}).map(([n, e]) => [n, info(e)])),
        outputs: Object.fromEntries(Object.entries(s.outputs).map(([n, e]) => [n, info(e)])),
        method_name: 'tensorflow/serving/predict',
      },
    ]),
  );
  const sm = {
    saved_model_schema_version: 1,
    meta_graphs: [
      {
        meta_info_def: {
          tags: ['serve'],
          tensorflow_version: 'servekit-test',
          stripped_default_attrs: graph.strippedDefaults ?? false,
          stripped_op_list: { op: graph.ops ?? [] },
        },
        graph_def: { node: graph.nodes, library: { function: graph.functions ?? [] } },
        signature_def: sigs,
      },
    ],
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/saved_model.pb`, encodeMessage('SavedModel', sm));
}
