import { baseDtype, dtypeName, TfDtype } from '../graph/dtypes.js';
import { type HostTensor, shapeSize } from '../graph/host-tensor.js';

/** A typed array holding a constant's elements (HALF/BFLOAT16 as Uint16Array bit patterns, BOOL as Uint8Array). */
export type NumArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A tensor value known at conversion time. */
export interface ConstData {
  /** TF dtype (base, no `_REF`). */
  dtype: number;
  /** Dims. */
  shape: number[];
  /** Elements, row-major. */
  data: NumArray;
}

/** A zeroed typed array for `n` elements of TF dtype `dt`. */
export function typedFor(dt: number, n: number): NumArray {
  switch (baseDtype(dt)) {
    case TfDtype.DT_FLOAT:
      return new Float32Array(n);
    case TfDtype.DT_DOUBLE:
      return new Float64Array(n);
    case TfDtype.DT_INT8:
      return new Int8Array(n);
    case TfDtype.DT_UINT8:
    case TfDtype.DT_BOOL:
      return new Uint8Array(n);
    case TfDtype.DT_INT16:
      return new Int16Array(n);
    case TfDtype.DT_UINT16:
    case TfDtype.DT_HALF:
    case TfDtype.DT_BFLOAT16:
      return new Uint16Array(n);
    case TfDtype.DT_INT32:
      return new Int32Array(n);
    case TfDtype.DT_UINT32:
      return new Uint32Array(n);
    case TfDtype.DT_INT64:
      return new BigInt64Array(n);
    case TfDtype.DT_UINT64:
      return new BigUint64Array(n);
    default:
      throw new Error(`constants of dtype ${dtypeName(dt)} cannot be lowered to ONNX`);
  }
}

/** A ConstData view of a frozen graph's HostTensor (the bytes are copied once, to an aligned buffer). */
export function constFromHost(h: HostTensor): ConstData {
  const dtype = baseDtype(h.dtype);
  if (h.bytes === undefined) throw new Error(`constants of dtype ${dtypeName(dtype)} cannot be lowered to ONNX`);
  const data = typedFor(dtype, shapeSize(h.shape));
  new Uint8Array(data.buffer).set(h.bytes);
  return { dtype, shape: h.shape.slice(), data };
}

/** A constant of `dtype` and `shape` from numbers (or bigints). */
export function constOf(dtype: number, shape: number[], values: ArrayLike<number | bigint>): ConstData {
  const data = typedFor(dtype, values.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) data[i] = BigInt(Math.trunc(Number(values[i])));
  } else {
    for (let i = 0; i < values.length; i++) (data as Float32Array)[i] = Number(values[i]);
  }
  return { dtype: baseDtype(dtype), shape, data };
}

/** The elements as JS numbers (int64 beyond 2^53 lose precision; used for shapes, axes, small folds). */
export function numbersOf(c: ConstData): number[] {
  return Array.from(c.data as ArrayLike<number | bigint>, Number);
}

/** Raw little-endian element bytes of a constant (a view, no copy). */
export function rawBytes(c: ConstData): Uint8Array {
  return new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength);
}

/** The constant with its dims permuted (`out.shape[i] = in.shape[perm[i]]`). */
export function transposeConst(c: ConstData, perm: readonly number[]): ConstData {
  const rank = c.shape.length;
  const outShape = perm.map((p) => c.shape[p]!);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= c.shape[i]!;
  }
  const out = typedFor(c.dtype, c.data.length);
  const idx = new Array<number>(rank).fill(0);
  const src = c.data as unknown as ArrayLike<number>;
  const dst = out as unknown as number[];
  const stridePerm = perm.map((p) => inStrides[p]!);
  for (let o = 0; o < out.length; o++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d]! * stridePerm[d]!;
    dst[o] = src[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return { dtype: c.dtype, shape: outShape, data: out };
}

/** The constant with a new shape (same elements). */
export function reshapeConst(c: ConstData, shape: number[]): ConstData {
  return { dtype: c.dtype, shape, data: c.data };
}

/** The constant's elements as Float32 (for folding weights). */
export function floatsOf(c: ConstData): Float32Array {
  return c.data instanceof Float32Array ? c.data : Float32Array.from(numbersOf(c));
}
