import { baseDtype, dtypeName, TfDtype, type TfjsDtype, tfjsDtype } from '../graph/dtypes.js';
import type { FrozenGraph, GraphNode } from '../graph/frozen-graph.js';
import { type HostTensor, shapeSize } from '../graph/host-tensor.js';
import type { AttrValueMsg, ShapeProto } from '../proto/tf-schema.js';

/** A tfjs weight entry (`io.WeightsManifestEntry` subset). */
export interface TfjsWeightSpec {
  /** Weight (Const node) name. */
  name: string;
  /** Dims. */
  shape: number[];
  /** tfjs dtype. */
  dtype: TfjsDtype;
}

/** What tfjs-converter's GraphModel loads (`io.ModelArtifacts` subset): GraphDef JSON plus one weight blob. */
export interface TfjsArtifacts {
  /** GraphDef as protobuf JSON (the shape tfjs `model.json` uses). */
  modelTopology: { node: TfjsNodeJson[]; versions: { producer: number } };
  /** One entry per Const node. */
  weightSpecs: TfjsWeightSpec[];
  /** Concatenated weight bytes. */
  weightData: ArrayBuffer;
}

/** A NodeDef in protobuf JSON form. */
export interface TfjsNodeJson {
  /** Node name. */
  name: string;
  /** Op type. */
  op: string;
  /** Input tensors. */
  input: string[];
  /** Attributes in protobuf JSON form. */
  attr: Record<string, unknown>;
}

/** The TF dtype name tfjs-converter understands for `dt` (it knows only float/int32/int64/int8/uint8/bool/string…). */
function tfjsTypeName(dt: number): string {
  const base = baseDtype(dt);
  const t = tfjsDtype(base);
  if (t === 'float32') return base === TfDtype.DT_HALF || base === TfDtype.DT_DOUBLE ? dtypeName(base) : 'DT_FLOAT';
  if (t === 'int32') {
    return base === TfDtype.DT_INT64 || base === TfDtype.DT_INT8 || base === TfDtype.DT_UINT8
      ? dtypeName(base)
      : 'DT_INT32';
  }
  return dtypeName(base);
}

function shapeJson(s: ShapeProto): unknown {
  if (s.unknown_rank) return { unknownRank: true };
  return { dim: (s.dim ?? []).map((d) => ({ size: d.size ?? '0' })) };
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

function attrJson(v: AttrValueMsg): unknown | undefined {
  if (v.list !== undefined) {
    const l = v.list;
    const list: Record<string, unknown> = {};
    if (l.s?.length) list.s = l.s.map(b64);
    if (l.i?.length) list.i = l.i;
    if (l.f?.length) list.f = l.f;
    if (l.b?.length) list.b = l.b;
    if (l.type?.length) list.type = l.type.map(tfjsTypeName);
    if (l.shape?.length) list.shape = l.shape.map(shapeJson);
    if (l.func?.length) list.func = l.func.map((f) => ({ name: f.name }));
    return { list };
  }
  if (v.s !== undefined) return { s: b64(v.s) };
  if (v.i !== undefined) return { i: v.i };
  if (v.f !== undefined) return { f: v.f };
  if (v.b !== undefined) return { b: v.b };
  if (v.type !== undefined) return { type: tfjsTypeName(v.type) };
  if (v.shape !== undefined) return { shape: shapeJson(v.shape) };
  if (v.func !== undefined) return { func: { name: v.func.name } };
  return undefined;
}

function nodeJson(n: GraphNode): TfjsNodeJson {
  const attr: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n.attrs)) {
    if (n.op === 'Const' && k === 'value') continue;
    // tfjs checks fed shapes against Placeholder shapes; TF Serving does not (signature shapes are advisory).
    if (n.op === 'Placeholder' && k === 'shape') continue;
    const j = attrJson(v);
    if (j !== undefined) attr[k] = j;
  }
  return { name: n.name, op: n.op, input: [...n.inputs], attr };
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** A constant's elements in the layout tfjs weights use for its tfjs dtype. */
function weightBytes(name: string, t: HostTensor): { dtype: TfjsDtype; bytes: Uint8Array } {
  const dtype = tfjsDtype(t.dtype);
  const count = shapeSize(t.shape);
  if (dtype === undefined)
    throw new Error(`constant "${name}" has dtype ${dtypeName(t.dtype)}, which tfjs cannot hold`);
  if (dtype === 'string') {
    const parts: Uint8Array[] = [];
    for (const s of t.strings ?? []) {
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, s.length, true);
      parts.push(len, s);
    }
    return { dtype, bytes: Buffer.concat(parts) };
  }
  const src = t.bytes ?? new Uint8Array(0);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (dtype === 'bool') return { dtype, bytes: Uint8Array.from(src, (b) => (b ? 1 : 0)) };
  if (dtype === 'float32') {
    if (t.dtype === TfDtype.DT_FLOAT) return { dtype, bytes: src };
    const out = new Float32Array(count);
    if (t.dtype === TfDtype.DT_DOUBLE) for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
    else if (t.dtype === TfDtype.DT_HALF)
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
    else for (let i = 0; i < count; i++) out[i] = bf16ToFloat(dv.getUint16(i * 2, true));
    return { dtype, bytes: new Uint8Array(out.buffer) };
  }
  const out = new Int32Array(count);
  const clamp = (v: bigint): number =>
    Number(v < BigInt(INT32_MIN) ? BigInt(INT32_MIN) : v > BigInt(INT32_MAX) ? BigInt(INT32_MAX) : v);
  switch (t.dtype) {
    case TfDtype.DT_INT32:
      return { dtype, bytes: src };
    case TfDtype.DT_INT64:
      // Out-of-range int64 constants are almost always "until the end" slice bounds; clamping keeps their meaning.
      for (let i = 0; i < count; i++) out[i] = clamp(dv.getBigInt64(i * 8, true));
      break;
    case TfDtype.DT_UINT64:
      for (let i = 0; i < count; i++) out[i] = clamp(dv.getBigUint64(i * 8, true));
      break;
    case TfDtype.DT_UINT32:
      for (let i = 0; i < count; i++) out[i] = Math.min(dv.getUint32(i * 4, true), INT32_MAX);
      break;
    case TfDtype.DT_INT16:
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, true);
      break;
    case TfDtype.DT_UINT16:
      for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, true);
      break;
    case TfDtype.DT_INT8:
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(i);
      break;
    default:
      for (let i = 0; i < count; i++) out[i] = dv.getUint8(i);
  }
  return { dtype, bytes: new Uint8Array(out.buffer) };
}

/** IEEE half bits → number. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** bfloat16 bits → number. */
function bf16ToFloat(h: number): number {
  const f = new Float32Array(1);
  new Uint32Array(f.buffer)[0] = h << 16;
  return f[0]!;
}

/** Convert a frozen graph to the in-memory artifacts `@tensorflow/tfjs-converter` GraphModel loads. */
export function toTfjsArtifacts(graph: FrozenGraph): TfjsArtifacts {
  const weightSpecs: TfjsWeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  const nodes: TfjsNodeJson[] = [];
  for (const n of graph.nodes) {
    const json = nodeJson(n);
    if (n.op === 'Const') {
      if (n.value === undefined) throw new Error(`constant "${n.name}" has no value`);
      const { dtype, bytes } = weightBytes(n.name, n.value);
      weightSpecs.push({ name: n.name, shape: [...n.value.shape], dtype });
      chunks.push(bytes);
      json.attr.dtype = { type: tfjsTypeName(n.value.dtype) };
    }
    nodes.push(json);
  }
  const all = Buffer.concat(chunks);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return { modelTopology: { node: nodes, versions: { producer: 0 } }, weightSpecs, weightData };
}
