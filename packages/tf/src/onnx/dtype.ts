import { OnnxDataType } from '@servekit/onnx';
import { baseDtype, requireOnnxElemType, TfDtype } from '../graph/dtypes.js';

/** The ONNX `TensorProto.DataType` number of a TF dtype (for Cast's `to`). */
export function onnxTypeCode(dt: number): number {
  return OnnxDataType[requireOnnxElemType(dt)];
}

/** Whether a TF dtype is a floating-point type. */
export function isFloat(dt: number): boolean {
  const b = baseDtype(dt);
  return b === TfDtype.DT_FLOAT || b === TfDtype.DT_DOUBLE || b === TfDtype.DT_HALF || b === TfDtype.DT_BFLOAT16;
}

/** Dtype groups that onnxruntime's CPU kernels implement, per kind of op. */
export const KERNEL_TYPES = {
  /** Add/Sub/Mul/Div/Pow/Max/Min/MatMul/Sum/Less/Greater, Abs, Neg, ReduceSum/Max/Min/Prod, Range. */
  arith: [TfDtype.DT_FLOAT, TfDtype.DT_DOUBLE, TfDtype.DT_INT32, TfDtype.DT_INT64],
  /** Sqrt/Exp/Log/activations/Softmax/Floor/Conv/pooling/Resize/ReduceMean. */
  float: [TfDtype.DT_FLOAT, TfDtype.DT_DOUBLE],
  /** Equal. */
  equal: [TfDtype.DT_FLOAT, TfDtype.DT_DOUBLE, TfDtype.DT_INT32, TfDtype.DT_INT64, TfDtype.DT_BOOL],
} as const;

/** The dtype to compute in when onnxruntime has no kernel for `dt` among `allowed` (small ints → int32, …). */
export function computeDtype(dt: number, allowed: readonly number[]): number {
  const b = baseDtype(dt);
  if (allowed.includes(b)) return b;
  switch (b) {
    case TfDtype.DT_HALF:
    case TfDtype.DT_BFLOAT16:
      return TfDtype.DT_FLOAT;
    case TfDtype.DT_INT8:
    case TfDtype.DT_INT16:
    case TfDtype.DT_UINT8:
    case TfDtype.DT_UINT16:
    case TfDtype.DT_BOOL:
      return allowed.includes(TfDtype.DT_INT32) ? TfDtype.DT_INT32 : TfDtype.DT_FLOAT;
    case TfDtype.DT_UINT32:
    case TfDtype.DT_UINT64:
      return allowed.includes(TfDtype.DT_INT64) ? TfDtype.DT_INT64 : TfDtype.DT_DOUBLE;
    case TfDtype.DT_INT32:
    case TfDtype.DT_INT64:
      return allowed.includes(TfDtype.DT_DOUBLE) ? TfDtype.DT_DOUBLE : TfDtype.DT_FLOAT;
    default:
      return b;
  }
}
