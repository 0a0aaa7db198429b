import { InvalidInput } from '../errors.js';
import { decodeRawData, encodeRawData } from '../tensor/binary-codec.js';
import {
  allocate,
  type Datatype,
  type FixedDatatype,
  INTEGER_RANGES,
  isDatatype,
  type TensorData,
} from '../tensor/datatypes.js';
import {
  elementCount,
  type InferRequest,
  type InferResponse,
  type InferTensor,
  type Parameters,
} from './infer-types.js';

/** InferParameter as decoded by proto-loader (oneofs: true, longs: String). */
export interface GrpcParameter {
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
  parameter_choice?: string;
}

/** InferTensorContents as decoded by proto-loader. */
export interface GrpcContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Array<string | number>;
  uint_contents?: number[];
  uint64_contents?: Array<string | number>;
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

/** One gRPC input/output tensor message. */
export interface GrpcTensor {
  name: string;
  datatype: string;
  shape: Array<string | number>;
  parameters?: Record<string, GrpcParameter>;
  contents?: GrpcContents;
}

/** ModelInferRequest as decoded by proto-loader. */
export interface GrpcInferRequest {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, GrpcParameter>;
  inputs?: GrpcTensor[];
  outputs?: Array<{ name: string; parameters?: Record<string, GrpcParameter> }>;
  raw_input_contents?: Uint8Array[];
}

/** ModelInferResponse as handed to proto-loader for encoding. */
export interface GrpcInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, GrpcParameter>;
  outputs: GrpcTensor[];
  raw_output_contents: Uint8Array[];
}

/** gRPC parameters map → plain parameters. */
export function fromGrpcParameters(params: Record<string, GrpcParameter> | undefined): Parameters | undefined {
  if (!params) return undefined;
  const keys = Object.keys(params);
  if (keys.length === 0) return undefined;
  const out: Parameters = {};
  for (const k of keys) {
    const p = params[k]!;
    if (p.bool_param !== undefined) out[k] = p.bool_param;
    else if (p.string_param !== undefined) out[k] = p.string_param;
    else if (p.double_param !== undefined) out[k] = p.double_param;
    else if (p.int64_param !== undefined) out[k] = Number(p.int64_param);
    else if (p.uint64_param !== undefined) out[k] = Number(p.uint64_param);
  }
  return out;
}

/** Plain parameters → gRPC parameters map (numbers: int64 when integral, else double). */
export function toGrpcParameters(params: Parameters | undefined): Record<string, GrpcParameter> {
  const out: Record<string, GrpcParameter> = {};
  if (!params) return out;
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'boolean') out[k] = { bool_param: v };
    else if (typeof v === 'string') out[k] = { string_param: v };
    else if (typeof v === 'number') out[k] = Number.isInteger(v) ? { int64_param: String(v) } : { double_param: v };
  }
  return out;
}

function shapeOf(name: string, shape: Array<string | number> | undefined): number[] {
  const out = (shape ?? []).map(Number);
  if (!out.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidInput(`Input "${name}": shape must hold non-negative integers below 2^53.`);
  }
  if (!Number.isSafeInteger(elementCount(out))) {
    throw new InvalidInput(`Input "${name}": shape ${JSON.stringify(out)} has more elements than can be addressed.`);
  }
  return out;
}

/** Throw InvalidInput unless every element of `src` is within the integer range of `datatype` (BOOL: 0/1). */
function checkRange(name: string, datatype: Datatype, src: ArrayLike<number | string | boolean>): void {
  const range = datatype === 'BOOL' ? undefined : INTEGER_RANGES[datatype as FixedDatatype];
  if (!range) return;
  const [min, max] = range;
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as number;
    if (!(v >= min && v <= max)) {
      throw new InvalidInput(`Input "${name}": element ${i} (${v}) is out of range for ${datatype}.`);
    }
  }
}

/** Typed `contents` of one tensor → typed data, checking the count against the shape. */
function decodeContents(name: string, datatype: Datatype, shape: number[], c: GrpcContents | undefined): TensorData {
  const count = elementCount(shape);
  const mismatch = (got: number): never => {
    throw new InvalidInput(
      `Input "${name}": shape ${JSON.stringify(shape)} needs ${count} elements but contents has ${got}.`,
    );
  };
  if (datatype === 'BYTES') {
    const v = c?.bytes_contents ?? [];
    if (v.length !== count) mismatch(v.length);
    return v;
  }
  if (datatype === 'FP16' || datatype === 'BF16') {
    throw new InvalidInput(`Input "${name}": ${datatype} must be sent in raw_input_contents.`);
  }
  const pick = (): ArrayLike<number | string | boolean> => {
    switch (datatype) {
      case 'BOOL':
        return c?.bool_contents ?? [];
      case 'INT8':
      case 'INT16':
      case 'INT32':
        return c?.int_contents ?? [];
      case 'INT64':
        return c?.int64_contents ?? [];
      case 'UINT8':
      case 'UINT16':
      case 'UINT32':
        return c?.uint_contents ?? [];
      case 'UINT64':
        return c?.uint64_contents ?? [];
      case 'FP32':
        return c?.fp32_contents ?? [];
      default:
        return c?.fp64_contents ?? [];
    }
  };
  const src = pick();
  if (src.length !== count) mismatch(src.length);
  const out = allocate(datatype as FixedDatatype, count);
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const big = out as BigInt64Array | BigUint64Array;
    for (let i = 0; i < count; i++) big[i] = BigInt(src[i] as string);
  } else if (datatype === 'BOOL') {
    for (let i = 0; i < count; i++) out[i] = src[i] ? 1 : 0;
  } else {
    checkRange(name, datatype, src);
    (out as Float64Array).set(src as ArrayLike<number>);
  }
  return out;
}

/** Decode a ModelInferRequest into an InferRequest (typed contents or raw_input_contents as views). */
export function decodeGrpcRequest(msg: GrpcInferRequest): { request: InferRequest; usedRaw: boolean } {
  const raw = msg.raw_input_contents ?? [];
  const usedRaw = raw.length > 0;
  const inputs = msg.inputs ?? [];
  if (usedRaw && raw.length !== inputs.length) {
    throw new InvalidInput(`raw_input_contents has ${raw.length} entries but there are ${inputs.length} inputs.`);
  }
  const tensors = inputs.map((t, i): InferTensor => {
    if (!t.name) throw new InvalidInput(`inputs[${i}] needs a name.`);
    if (!isDatatype(t.datatype)) throw new InvalidInput(`Input "${t.name}": unknown datatype "${t.datatype}".`);
    const shape = shapeOf(t.name, t.shape);
    const data = usedRaw
      ? decodeRawData(t.name, t.datatype, shape, raw[i]!)
      : decodeContents(t.name, t.datatype, shape, t.contents);
    const tensor: InferTensor = { name: t.name, datatype: t.datatype, shape, data };
    const p = fromGrpcParameters(t.parameters);
    if (p) tensor.parameters = p;
    return tensor;
  });
  const request: InferRequest = { inputs: tensors };
  if (msg.id) request.id = msg.id;
  const p = fromGrpcParameters(msg.parameters);
  if (p) request.parameters = p;
  if (msg.outputs && msg.outputs.length > 0) {
    request.outputs = msg.outputs.map((o) => {
      const op = fromGrpcParameters(o.parameters);
      return op ? { name: o.name, parameters: op } : { name: o.name };
    });
  }
  return { request, usedRaw };
}

function toContents(t: InferTensor): GrpcContents {
  const d = t.data;
  if (Array.isArray(d)) return { bytes_contents: d.map((b) => (typeof b === 'string' ? Buffer.from(b, 'utf8') : b)) };
  switch (t.datatype) {
    case 'BOOL':
      return { bool_contents: Array.from(d as Uint8Array, (v) => v !== 0) };
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return { int_contents: Array.from(d as Int32Array) };
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return { uint_contents: Array.from(d as Uint32Array) };
    case 'INT64':
      return { int64_contents: Array.from(d as BigInt64Array, String) };
    case 'UINT64':
      return { uint64_contents: Array.from(d as BigUint64Array, String) };
    case 'FP32':
      return { fp32_contents: Array.from(d as Float32Array) };
    default:
      return { fp64_contents: Array.from(d as Float64Array) };
  }
}

/** Encode an InferResponse as ModelInferResponse; raw_output_contents when `raw` (always for FP16/BF16). */
export function encodeGrpcResponse(res: InferResponse, raw: boolean): GrpcInferResponse {
  const useRaw = raw || res.outputs.some((t) => t.datatype === 'FP16' || t.datatype === 'BF16');
  const outputs = res.outputs.map((t): GrpcTensor => {
    const out: GrpcTensor = {
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      parameters: toGrpcParameters(t.parameters),
    };
    if (!useRaw) out.contents = toContents(t);
    return out;
  });
  return {
    model_name: res.model_name,
    model_version: res.model_version ?? '',
    id: res.id ?? '',
    parameters: toGrpcParameters(res.parameters),
    outputs,
    raw_output_contents: useRaw ? res.outputs.map((t) => encodeRawData(t.data)) : [],
  };
}
