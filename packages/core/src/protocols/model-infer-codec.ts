import { InvalidInput } from '../errors.js';
import { checkDecodedBytes, type RequestLimits } from '../limits.js';
import { decodeRawData, encodeRawData } from '../tensor/binary-codec.js';
import {
  allocate,
  byteSize,
  type Datatype,
  type FixedDatatype,
  isBigIntDatatype,
  isDatatype,
  type TensorData,
} from '../tensor/datatypes.js';
import type { InferRequest, InferResponse, InferTensor, Parameters, RequestedOutput } from './infer-types.js';
import { int64Size, ProtoReader, ProtoWriter, utf8Size, varintSize, WireType } from './protobuf-wire.js';

/** Longest tensor/model name echoed in an error message; longer names are clipped with an ellipsis. */
export const MAX_ECHOED_NAME = 256;

/** Most dims accepted in one tensor shape. */
export const MAX_RANK = 64;

/** Bytes charged against the decoded budget for each object a request creates (tensor, parameter, BYTES element). */
const OBJECT_BYTES = 96;

/** `name` as echoed in error messages: clipped to {@link MAX_ECHOED_NAME} characters. */
export function clipName(name: string): string {
  return name.length > MAX_ECHOED_NAME ? `${name.slice(0, MAX_ECHOED_NAME)}…` : name;
}

/** A decoded ModelInferRequest: the routing fields and the request. */
export interface DecodedModelInfer {
  /** `model_name` (field 1). */
  modelName: string;
  /** `model_version` (field 2); undefined when empty. */
  modelVersion: string | undefined;
  /** The inference request with typed-array inputs. */
  request: InferRequest;
}

interface PendingInput {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Parameters | undefined;
  contents: [number, number] | undefined;
}

/** Which InferTensorContents field (1..8) carries each datatype (0: none, FP16/BF16 go raw). */
const CONTENTS_FIELD: Record<Datatype, number> = {
  BOOL: 1,
  INT8: 2,
  INT16: 2,
  INT32: 2,
  INT64: 3,
  UINT8: 4,
  UINT16: 4,
  UINT32: 4,
  UINT64: 5,
  FP32: 6,
  FP64: 7,
  BYTES: 8,
  FP16: 0,
  BF16: 0,
};

const CONTENTS_NAMES = [
  '',
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

/** Inclusive ranges of the datatypes carried in 32-bit contents fields. */
const RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  BOOL: [0, 1],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
};

/** `lo`/`hi` of a varint as a signed 64-bit Number (exact below 2^53). */
function signed64(lo: number, hi: number): number {
  return hi & 0x80000000 ? -((~hi >>> 0) * 0x100000000 + (~lo >>> 0) + 1) : hi * 0x100000000 + lo;
}

/** Read an InferParameter message into a plain value. */
function readParameterValue(r: ProtoReader): string | number | boolean | undefined {
  let value: string | number | boolean | undefined;
  while (!r.done()) {
    const field = r.tag();
    const wire = r.wire;
    switch (field) {
      case 1:
        r.expect(wire, WireType.VARINT, 'bool_param');
        r.varint();
        value = r.lo !== 0 || r.hi !== 0;
        break;
      case 2:
        r.expect(wire, WireType.VARINT, 'int64_param');
        r.varint();
        value = signed64(r.lo, r.hi);
        break;
      case 3:
        r.expect(wire, WireType.LEN, 'string_param');
        value = r.string();
        break;
      case 4: {
        r.expect(wire, WireType.I64, 'double_param');
        if (r.end - r.pos < 8) r.fail('truncated double_param');
        value = Buffer.from(r.buf.buffer, r.buf.byteOffset, r.buf.byteLength).readDoubleLE(r.pos);
        r.pos += 8;
        break;
      }
      case 5:
        r.expect(wire, WireType.VARINT, 'uint64_param');
        r.varint();
        value = r.hi * 0x100000000 + r.lo;
        break;
      default:
        r.skip(wire);
    }
  }
  return value;
}

/** Budget shared by everything one request decodes. */
class DecodeBudget {
  used = 0;
  constructor(readonly limits: RequestLimits) {}
  /** Charge `bytes` for `what`, throwing RequestTooLarge past the limit. */
  charge(bytes: number, what: string): void {
    checkDecodedBytes(this.used + bytes, this.limits, what);
    this.used += bytes;
  }
}

/** Read one map<string, InferParameter> entry into `into`. */
function readParameterEntry(r: ProtoReader, into: Parameters, budget: DecodeBudget): void {
  let key = '';
  let value: string | number | boolean | undefined;
  while (!r.done()) {
    const field = r.tag();
    const wire = r.wire;
    if (field === 1) {
      r.expect(wire, WireType.LEN, 'parameters key');
      key = r.string();
    } else if (field === 2) {
      r.expect(wire, WireType.LEN, 'parameters value');
      const [s, e] = r.delimited();
      value = readParameterValue(new ProtoReader(r.buf, s, e, 'InferParameter'));
    } else r.skip(wire);
  }
  budget.charge(OBJECT_BYTES + key.length * 2, 'Request parameters');
  if (value !== undefined) into[key] = value;
}

function sub(r: ProtoReader, what: string): ProtoReader {
  const [s, e] = r.delimited();
  return new ProtoReader(r.buf, s, e, what);
}

/** Read repeated int64 shape dims (packed or not), rejecting negative or non-safe dims. */
function readShapeDims(r: ProtoReader, wire: number, into: number[]): void {
  const readDim = (dr: ProtoReader): void => {
    dr.varint();
    if (dr.hi & 0x80000000) dr.fail('shape has a negative dimension');
    if (dr.hi >= 0x200000) dr.fail('shape has a dimension of 2^53 or more');
    if (into.length >= MAX_RANK) dr.fail(`shape has more than ${MAX_RANK} dimensions`);
    into.push(dr.hi * 0x100000000 + dr.lo);
  };
  if (wire === WireType.VARINT) readDim(r);
  else if (wire === WireType.LEN) {
    const dr = sub(r, r.what);
    while (!dr.done()) readDim(dr);
  } else r.fail(`field shape has wire type ${wire}`);
}

function readInput(r: ProtoReader, budget: DecodeBudget): PendingInput {
  const input: PendingInput = { name: '', datatype: '', shape: [], parameters: undefined, contents: undefined };
  while (!r.done()) {
    const field = r.tag();
    const wire = r.wire;
    switch (field) {
      case 1:
        r.expect(wire, WireType.LEN, 'name');
        input.name = r.string();
        break;
      case 2:
        r.expect(wire, WireType.LEN, 'datatype');
        input.datatype = r.string();
        break;
      case 3:
        readShapeDims(r, wire, input.shape);
        break;
      case 4:
        r.expect(wire, WireType.LEN, 'parameters');
        input.parameters ??= {};
        readParameterEntry(sub(r, 'InferInputTensor.parameters'), input.parameters, budget);
        break;
      case 5:
        r.expect(wire, WireType.LEN, 'contents');
        input.contents = r.delimited();
        break;
      default:
        r.skip(wire);
    }
  }
  return input;
}

function readRequestedOutput(r: ProtoReader, budget: DecodeBudget): RequestedOutput {
  const out: RequestedOutput = { name: '' };
  while (!r.done()) {
    const field = r.tag();
    const wire = r.wire;
    if (field === 1) {
      r.expect(wire, WireType.LEN, 'name');
      out.name = r.string();
    } else if (field === 2) {
      r.expect(wire, WireType.LEN, 'parameters');
      out.parameters ??= {};
      readParameterEntry(sub(r, 'InferRequestedOutputTensor.parameters'), out.parameters, budget);
    } else r.skip(wire);
  }
  return out;
}

/** Element count of a validated shape; InvalidInput when the product is not a safe integer. */
function countOf(label: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) {
    throw new InvalidInput(`${label}: shape ${JSON.stringify(shape)} has more elements than can be addressed.`);
  }
  return n;
}

/** Elements in one occurrence of a contents field: packed (LEN) or a single unpacked value. */
function countField(r: ProtoReader, label: string, field: number, wire: number): number {
  const fixed = field === 6 ? 4 : field === 7 ? 8 : 0;
  const unpackedWire = fixed === 4 ? WireType.I32 : fixed === 8 ? WireType.I64 : WireType.VARINT;
  if (field === 8) {
    r.expect(wire, WireType.LEN, 'bytes_contents');
    r.delimited();
    return 1;
  }
  if (wire === unpackedWire) {
    r.skip(wire);
    return 1;
  }
  if (wire !== WireType.LEN) r.fail(`${label}: ${CONTENTS_NAMES[field]} has wire type ${wire}`);
  const [s, e] = r.delimited();
  if (fixed) {
    if ((e - s) % fixed !== 0) r.fail(`${label}: packed ${CONTENTS_NAMES[field]} is not a multiple of ${fixed} bytes`);
    return (e - s) / fixed;
  }
  if (e > s && r.buf[e - 1]! >= 0x80) r.fail(`${label}: packed ${CONTENTS_NAMES[field]} ends in a truncated varint`);
  let n = 0;
  const buf = r.buf;
  for (let i = s; i < e; i++) if (buf[i]! < 0x80) n++;
  return n;
}

/** Typed contents → typed data: counts first, checks shape and budget, then decodes into one typed array. */
function decodeContents(
  input: PendingInput,
  label: string,
  datatype: Datatype,
  count: number,
  buf: Uint8Array,
  budget: DecodeBudget,
): TensorData {
  const want = CONTENTS_FIELD[datatype];
  if (want === 0) throw new InvalidInput(`${label}: ${datatype} must be sent in raw_input_contents.`);
  const [cs, ce] = input.contents ?? [0, 0];
  let got = 0;
  const counter = new ProtoReader(buf, cs, ce, 'InferTensorContents');
  while (!counter.done()) {
    const field = counter.tag();
    const wire = counter.wire;
    if (field === want) got += countField(counter, label, field, wire);
    else if (field >= 1 && field <= 8) {
      throw new InvalidInput(`${label}: datatype ${datatype} cannot be sent in ${CONTENTS_NAMES[field]}.`);
    } else counter.skip(wire);
  }
  if (got !== count) {
    throw new InvalidInput(
      `${label}: shape ${JSON.stringify(input.shape)} needs ${count} elements but contents has ${got}.`,
    );
  }
  if (datatype === 'BYTES') {
    budget.charge(count * OBJECT_BYTES, label);
    const out: Uint8Array[] = new Array(count);
    let i = 0;
    const r = new ProtoReader(buf, cs, ce, 'InferTensorContents');
    while (!r.done()) {
      const field = r.tag();
      const wire = r.wire;
      if (field === 8) out[i++] = r.bytes();
      else r.skip(wire);
    }
    return out;
  }
  const fixed = datatype as FixedDatatype;
  budget.charge(count * byteSize(fixed), label);
  const out = allocate(fixed, count);
  const r = new ProtoReader(buf, cs, ce, 'InferTensorContents');
  let i = 0;
  if (datatype === 'FP32' || datatype === 'FP64') {
    const size = datatype === 'FP32' ? 4 : 8;
    const dst = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    while (!r.done()) {
      const field = r.tag();
      const wire = r.wire;
      if (field !== want) {
        r.skip(wire);
        continue;
      }
      let s: number;
      let e: number;
      if (wire === WireType.LEN) [s, e] = r.delimited();
      else {
        s = r.pos;
        r.skip(wire);
        e = r.pos;
      }
      dst.set(buf.subarray(s, e), i * size);
      i += (e - s) / size;
    }
    return out;
  }
  const words =
    datatype === 'INT64' || datatype === 'UINT64' ? new Uint32Array(out.buffer, out.byteOffset, count * 2) : undefined;
  const narrow = out as Int32Array | Uint32Array | Uint8Array;
  const range = RANGES[datatype] ?? [0, 0];
  const isSigned = datatype === 'INT8' || datatype === 'INT16' || datatype === 'INT32';
  while (!r.done()) {
    const field = r.tag();
    const wire = r.wire;
    if (field !== want) {
      r.skip(wire);
      continue;
    }
    let s: number;
    let e: number;
    if (wire === WireType.LEN) [s, e] = r.delimited();
    else {
      s = r.pos;
      r.varint();
      e = r.pos;
    }
    // The count pass has checked that every varint in [s, e) is complete.
    i = words ? fillWords(buf, s, e, words, i) : fillNarrow(buf, s, e, narrow, i, range, isSigned, label, datatype);
  }
  return out;
}

/** Varint decoder state: the low and high 32 bits of the last varint read by {@link readVarint}. */
let vLo = 0;
let vHi = 0;

/** Read the (complete, already validated) varint at `pos` into vLo/vHi; returns the position after it. */
function readVarint(buf: Uint8Array, pos: number): number {
  let b = buf[pos++]!;
  if (b < 0x80) {
    vLo = b;
    vHi = 0;
    return pos;
  }
  let lo = b & 0x7f;
  let hi = 0;
  for (let shift = 7; shift < 28; shift += 7) {
    b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      vLo = lo >>> 0;
      vHi = 0;
      return pos;
    }
  }
  b = buf[pos++]!;
  lo |= (b & 0x0f) << 28;
  hi = (b & 0x7f) >> 4;
  for (let shift = 3; b >= 0x80 && shift < 32; shift += 7) {
    b = buf[pos++]!;
    hi |= (b & 0x7f) << shift;
  }
  vLo = lo >>> 0;
  vHi = hi >>> 0;
  return pos;
}

/** Decode the varints in [s, e) as 64-bit words (lo, hi) from element `i`; returns the next element index. */
function fillWords(buf: Uint8Array, s: number, e: number, words: Uint32Array, i: number): number {
  let pos = s;
  while (pos < e) {
    pos = readVarint(buf, pos);
    words[2 * i] = vLo;
    words[2 * i + 1] = vHi;
    i++;
  }
  return i;
}

/** Decode the varints in [s, e) into a 32-bit-or-narrower array, range-checked; returns the next element index. */
function fillNarrow(
  buf: Uint8Array,
  s: number,
  e: number,
  out: Int32Array | Uint32Array | Uint8Array,
  i: number,
  range: readonly [number, number],
  isSigned: boolean,
  label: string,
  datatype: Datatype,
): number {
  const [min, max] = range;
  let pos = s;
  while (pos < e) {
    pos = readVarint(buf, pos);
    let v: number;
    if (vHi === 0) v = isSigned && vLo > 0x7fffffff ? Number.NaN : vLo;
    else v = isSigned && vHi === 0xffffffff && vLo > 0x7fffffff ? vLo | 0 : Number.NaN;
    if (!(v >= min && v <= max)) {
      const shown = Number.isNaN(v) ? signed64(vLo, vHi) : v;
      throw new InvalidInput(`${label}: element ${i} (${shown}) is out of range for ${datatype}.`);
    }
    out[i++] = v;
  }
  return i;
}

/**
 * Decode a serialized ModelInferRequest straight into typed arrays: `raw_input_contents` become views over
 * `buf`, packed typed contents are decoded into one typed array per tensor after their element count has been
 * checked against the shape and the request's decoded-bytes budget. Malformed protobuf, bad shapes, out of range
 * values and count mismatches throw InvalidInput; going over `limits` throws RequestTooLarge.
 */
export function decodeModelInferRequest(buf: Uint8Array, limits: RequestLimits): DecodedModelInfer {
  const budget = new DecodeBudget(limits);
  const r = new ProtoReader(buf, 0, buf.byteLength, 'ModelInferRequest');
  let modelName = '';
  let modelVersion = '';
  let id = '';
  let parameters: Parameters | undefined;
  const pending: PendingInput[] = [];
  const outputs: RequestedOutput[] = [];
  const raw: Uint8Array[] = [];
  while (!r.done()) {
    const field = r.tag();
    const wire = r.wire;
    switch (field) {
      case 1:
        r.expect(wire, WireType.LEN, 'model_name');
        modelName = r.string();
        break;
      case 2:
        r.expect(wire, WireType.LEN, 'model_version');
        modelVersion = r.string();
        break;
      case 3:
        r.expect(wire, WireType.LEN, 'id');
        id = r.string();
        break;
      case 4:
        r.expect(wire, WireType.LEN, 'parameters');
        parameters ??= {};
        readParameterEntry(sub(r, 'ModelInferRequest.parameters'), parameters, budget);
        break;
      case 5:
        r.expect(wire, WireType.LEN, 'inputs');
        budget.charge(OBJECT_BYTES, 'Request inputs');
        pending.push(readInput(sub(r, 'InferInputTensor'), budget));
        break;
      case 6:
        r.expect(wire, WireType.LEN, 'outputs');
        budget.charge(OBJECT_BYTES, 'Requested outputs');
        outputs.push(readRequestedOutput(sub(r, 'InferRequestedOutputTensor'), budget));
        break;
      case 7:
        r.expect(wire, WireType.LEN, 'raw_input_contents');
        budget.charge(OBJECT_BYTES, 'raw_input_contents');
        raw.push(r.bytes());
        break;
      default:
        r.skip(wire);
    }
  }
  const usedRaw = raw.length > 0;
  if (usedRaw && raw.length !== pending.length) {
    throw new InvalidInput(`raw_input_contents has ${raw.length} entries but there are ${pending.length} inputs.`);
  }
  const inputs = pending.map((p, i): InferTensor => {
    if (!p.name) throw new InvalidInput(`inputs[${i}] needs a name.`);
    const label = `Input "${clipName(p.name)}"`;
    if (!isDatatype(p.datatype)) throw new InvalidInput(`${label}: unknown datatype "${clipName(p.datatype)}".`);
    const count = countOf(label, p.shape);
    let data: TensorData;
    if (usedRaw) {
      if (p.contents) throw new InvalidInput(`${label}: contents must be empty when raw_input_contents is used.`);
      const bytes = raw[i]!;
      budget.charge(p.datatype === 'BYTES' ? count * OBJECT_BYTES : bytes.byteLength, label);
      data = decodeRawData(clipName(p.name), p.datatype, p.shape, bytes);
    } else data = decodeContents(p, label, p.datatype, count, buf, budget);
    const tensor: InferTensor = { name: p.name, datatype: p.datatype, shape: p.shape, data };
    if (p.parameters && Object.keys(p.parameters).length > 0) tensor.parameters = p.parameters;
    return tensor;
  });
  const request: InferRequest = { inputs };
  if (id) request.id = id;
  if (parameters && Object.keys(parameters).length > 0) request.parameters = parameters;
  if (outputs.length > 0) {
    request.outputs = outputs.map((o) => {
      if (o.parameters && Object.keys(o.parameters).length === 0) delete o.parameters;
      return o;
    });
  }
  return { modelName, modelVersion: modelVersion || undefined, request };
}

/**
 * An output's raw bytes: a view of its typed array, BYTES length-prefixed; a typed array of another element type
 * than its datatype (a model returning Int32Array for INT8, say) is converted first so the bytes match the datatype.
 */
function rawOutputBytes(t: InferTensor): Uint8Array {
  const d = t.data;
  if (Array.isArray(d) || t.datatype === 'BYTES') return encodeRawData(d);
  const dt = t.datatype as FixedDatatype;
  if (d.BYTES_PER_ELEMENT === byteSize(dt) && (typeof d[0] === 'bigint') === isBigIntDatatype(dt)) {
    return encodeRawData(d);
  }
  const out = allocate(dt, d.length);
  if (isBigIntDatatype(dt)) for (let i = 0; i < d.length; i++) out[i] = BigInt(Math.trunc(Number(d[i])));
  else for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return encodeRawData(out);
}

type ParamValue = string | number | boolean;

/** Size of one InferParameter message for `v`. */
function parameterValueSize(v: ParamValue, strSize: number): number {
  if (typeof v === 'boolean') return 2;
  if (typeof v === 'string') return 1 + varintSize(strSize) + strSize;
  if (Number.isSafeInteger(v)) return 1 + int64Size(v);
  return 9;
}

interface SizedParams {
  entries: Array<{ key: string; keySize: number; value: ParamValue; strSize: number; valueSize: number; size: number }>;
  /** Encoded bytes of all entries, tags and lengths included, for a given field number of one byte. */
  total: number;
}

function sizeParams(params: Parameters | undefined): SizedParams {
  const sized: SizedParams = { entries: [], total: 0 };
  if (!params) return sized;
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    const keySize = utf8Size(key);
    const strSize = typeof value === 'string' ? utf8Size(value) : 0;
    const valueSize = parameterValueSize(value, strSize);
    const size = 1 + varintSize(keySize) + keySize + 1 + varintSize(valueSize) + valueSize;
    sized.entries.push({ key, keySize, value, strSize, valueSize, size });
    sized.total += 1 + varintSize(size) + size;
  }
  return sized;
}

function writeParams(w: ProtoWriter, field: number, sized: SizedParams): void {
  for (const e of sized.entries) {
    w.tag(field, WireType.LEN);
    w.varint(e.size);
    w.string(1, e.key, e.keySize);
    w.tag(2, WireType.LEN);
    w.varint(e.valueSize);
    const v = e.value;
    if (typeof v === 'boolean') {
      w.tag(1, WireType.VARINT);
      w.varint(v ? 1 : 0);
    } else if (typeof v === 'string') w.string(3, v, e.strSize);
    else if (Number.isSafeInteger(v)) {
      w.tag(2, WireType.VARINT);
      w.int64(v);
    } else {
      w.tag(4, WireType.I64);
      w.pos = w.buf.writeDoubleLE(v, w.pos);
    }
  }
}

/**
 * Encode an InferResponse as a serialized ModelInferResponse, always answering in `raw_output_contents`
 * (as Triton does: row-major little-endian bytes, BYTES with 4-byte length prefixes); the only per-output work
 * is one copy of its bytes into the message.
 */
export function encodeModelInferResponse(res: InferResponse): Buffer {
  const nameSize = utf8Size(res.model_name);
  const version = res.model_version ?? '';
  const versionSize = utf8Size(version);
  const id = res.id ?? '';
  const idSize = utf8Size(id);
  const params = sizeParams(res.parameters);
  const outs = res.outputs.map((t) => {
    const nSize = utf8Size(t.name);
    const dSize = t.datatype.length;
    let shapeSize = 0;
    for (const d of t.shape) shapeSize += int64Size(d);
    const p = sizeParams(t.parameters);
    const size =
      (nSize ? 1 + varintSize(nSize) + nSize : 0) +
      1 +
      varintSize(dSize) +
      dSize +
      (t.shape.length ? 1 + varintSize(shapeSize) + shapeSize : 0) +
      p.total;
    return { t, nSize, dSize, shapeSize, p, size, raw: rawOutputBytes(t) };
  });
  const str = (n: number): number => (n ? 1 + varintSize(n) + n : 0);
  let total = str(nameSize) + str(versionSize) + str(idSize) + params.total;
  for (const o of outs) total += 1 + varintSize(o.size) + o.size + 1 + varintSize(o.raw.byteLength) + o.raw.byteLength;
  const w = new ProtoWriter(Buffer.allocUnsafe(total));
  if (nameSize) w.string(1, res.model_name, nameSize);
  if (versionSize) w.string(2, version, versionSize);
  if (idSize) w.string(3, id, idSize);
  writeParams(w, 4, params);
  for (const o of outs) {
    w.tag(5, WireType.LEN);
    w.varint(o.size);
    if (o.nSize) w.string(1, o.t.name, o.nSize);
    w.string(2, o.t.datatype, o.dSize);
    if (o.t.shape.length) {
      w.tag(3, WireType.LEN);
      w.varint(o.shapeSize);
      for (const d of o.t.shape) w.int64(d);
    }
    writeParams(w, 4, o.p);
  }
  for (const o of outs) w.bytes(6, o.raw);
  if (w.pos !== total) throw new Error(`ModelInferResponse encoder wrote ${w.pos} of ${total} bytes`);
  return w.buf;
}
