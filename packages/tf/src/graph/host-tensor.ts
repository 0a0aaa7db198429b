import type { ShapeProto, TensorProtoMsg } from '../proto/tf-schema.js';
import { dtypeName, TfDtype, tfElementSize } from './dtypes.js';

/**
 * A TensorFlow tensor held on the host: the TF dtype, the shape, and either raw little-endian element
 * bytes (fixed-size dtypes) or byte strings (DT_STRING). Constants and variable values of a frozen graph.
 */
export interface HostTensor {
  /** TF DataType enum value. */
  dtype: number;
  /** Dimensions (all known). */
  shape: number[];
  /** Raw little-endian element bytes, for fixed-size dtypes. */
  bytes?: Uint8Array;
  /** Elements of a DT_STRING tensor. */
  strings?: Uint8Array[];
}

/** Dims of a TensorShapeProto (-1 for unknown dims), or undefined for unknown rank. */
export function shapeDims(shape: ShapeProto | undefined): number[] | undefined {
  if (shape === undefined) return [];
  if (shape.unknown_rank) return undefined;
  return (shape.dim ?? []).map((d) => Number(d.size ?? 0));
}

/** Number of elements of a fully known shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function fill<T>(values: readonly T[], count: number, zero: T): T[] {
  if (values.length >= count) return values.slice(0, count);
  const last = values.length > 0 ? values[values.length - 1]! : zero;
  const out = values.slice();
  while (out.length < count) out.push(last);
  return out;
}

/** A HostTensor from a TensorProto (Const `value` attr), honouring the "repeat the last value" rule. */
export function tensorFromProto(p: TensorProtoMsg): HostTensor {
  const dtype = p.dtype ?? 0;
  const shape = shapeDims(p.tensor_shape);
  if (shape === undefined || shape.some((d) => d < 0)) throw new Error('constant tensor has an unknown shape');
  const count = shapeSize(shape);
  if (dtype === TfDtype.DT_STRING) {
    return { dtype, shape, strings: fill(p.string_val ?? [], count, new Uint8Array(0)) };
  }
  const elem = tfElementSize(dtype);
  if (elem === undefined) throw new Error(`constant of dtype ${dtypeName(dtype)} is not supported`);
  if (p.tensor_content !== undefined && p.tensor_content.length > 0) {
    if (p.tensor_content.length !== count * elem) {
      throw new Error(`constant holds ${p.tensor_content.length} bytes, its shape needs ${count * elem}`);
    }
    return { dtype, shape, bytes: p.tensor_content.slice() };
  }
  const bytes = new Uint8Array(count * elem);
  const dv = new DataView(bytes.buffer);
  switch (dtype) {
    case TfDtype.DT_FLOAT:
      fill(p.float_val ?? [], count, 0).forEach((v, i) => {
        dv.setFloat32(i * 4, v, true);
      });
      break;
    case TfDtype.DT_DOUBLE:
      fill(p.double_val ?? [], count, 0).forEach((v, i) => {
        dv.setFloat64(i * 8, v, true);
      });
      break;
    case TfDtype.DT_INT32:
    case TfDtype.DT_QINT32:
      fill(p.int_val ?? [], count, 0).forEach((v, i) => {
        dv.setInt32(i * 4, v, true);
      });
      break;
    case TfDtype.DT_INT16:
    case TfDtype.DT_QINT16:
      fill(p.int_val ?? [], count, 0).forEach((v, i) => {
        dv.setInt16(i * 2, v, true);
      });
      break;
    case TfDtype.DT_UINT16:
    case TfDtype.DT_QUINT16:
      fill(p.int_val ?? [], count, 0).forEach((v, i) => {
        dv.setUint16(i * 2, v, true);
      });
      break;
    case TfDtype.DT_INT8:
    case TfDtype.DT_QINT8:
      fill(p.int_val ?? [], count, 0).forEach((v, i) => {
        dv.setInt8(i, v);
      });
      break;
    case TfDtype.DT_UINT8:
    case TfDtype.DT_QUINT8:
      fill(p.int_val ?? [], count, 0).forEach((v, i) => {
        dv.setUint8(i, v);
      });
      break;
    case TfDtype.DT_HALF:
    case TfDtype.DT_BFLOAT16:
      fill(p.half_val ?? [], count, 0).forEach((v, i) => {
        dv.setUint16(i * 2, v, true);
      });
      break;
    case TfDtype.DT_BOOL:
      fill(p.bool_val ?? [], count, false).forEach((v, i) => {
        dv.setUint8(i, v ? 1 : 0);
      });
      break;
    case TfDtype.DT_INT64:
      fill(p.int64_val ?? [], count, '0').forEach((v, i) => {
        dv.setBigInt64(i * 8, BigInt(v), true);
      });
      break;
    case TfDtype.DT_UINT32:
      fill(p.uint32_val ?? [], count, 0).forEach((v, i) => {
        dv.setUint32(i * 4, v, true);
      });
      break;
    case TfDtype.DT_UINT64:
      fill(p.uint64_val ?? [], count, '0').forEach((v, i) => {
        dv.setBigUint64(i * 8, BigInt(v), true);
      });
      break;
    default:
      throw new Error(`constant of dtype ${dtypeName(dtype)} is not supported`);
  }
  return { dtype, shape, bytes };
}
