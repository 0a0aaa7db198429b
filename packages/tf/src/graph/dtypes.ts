import type { Datatype } from '@servekit/core';
import type { OnnxElemType } from '@servekit/onnx';

/** TensorFlow `DataType` enum values (tensorflow/core/framework/types.proto). */
export const TfDtype = {
  DT_INVALID: 0,
  DT_FLOAT: 1,
  DT_DOUBLE: 2,
  DT_INT32: 3,
  DT_UINT8: 4,
  DT_INT16: 5,
  DT_INT8: 6,
  DT_STRING: 7,
  DT_COMPLEX64: 8,
  DT_INT64: 9,
  DT_BOOL: 10,
  DT_QINT8: 11,
  DT_QUINT8: 12,
  DT_QINT32: 13,
  DT_BFLOAT16: 14,
  DT_QINT16: 15,
  DT_QUINT16: 16,
  DT_UINT16: 17,
  DT_COMPLEX128: 18,
  DT_HALF: 19,
  DT_RESOURCE: 20,
  DT_VARIANT: 21,
  DT_UINT32: 22,
  DT_UINT64: 23,
} as const;

/** The dtypes tfjs computes in. */
export type TfjsDtype = 'float32' | 'int32' | 'bool' | 'string';

/** What one TF dtype is in the other type systems servekit speaks; absent where that system has no such type. */
interface DtypeInfo {
  /** V2 / Open Inference Protocol datatype. */
  v2?: Datatype;
  /** ONNX `TensorProto` element type. */
  onnx?: OnnxElemType;
  /** The tfjs dtype it is computed in (tfjs has no 64-bit, 8/16-bit or unsigned types). */
  tfjs?: TfjsDtype;
  /** Bytes per element (fixed-size dtypes only). */
  size?: number;
}

/** The one table of TF dtypes (by base enum value): V2 datatype, ONNX element type, tfjs dtype, element size. */
const DTYPES: Partial<Record<number, DtypeInfo>> = {
  [TfDtype.DT_FLOAT]: { v2: 'FP32', onnx: 'FLOAT', tfjs: 'float32', size: 4 },
  [TfDtype.DT_DOUBLE]: { v2: 'FP64', onnx: 'DOUBLE', tfjs: 'float32', size: 8 },
  [TfDtype.DT_HALF]: { v2: 'FP16', onnx: 'FLOAT16', tfjs: 'float32', size: 2 },
  [TfDtype.DT_BFLOAT16]: { v2: 'BF16', onnx: 'BFLOAT16', tfjs: 'float32', size: 2 },
  [TfDtype.DT_INT8]: { v2: 'INT8', onnx: 'INT8', tfjs: 'int32', size: 1 },
  [TfDtype.DT_INT16]: { v2: 'INT16', onnx: 'INT16', tfjs: 'int32', size: 2 },
  [TfDtype.DT_INT32]: { v2: 'INT32', onnx: 'INT32', tfjs: 'int32', size: 4 },
  [TfDtype.DT_INT64]: { v2: 'INT64', onnx: 'INT64', tfjs: 'int32', size: 8 },
  [TfDtype.DT_UINT8]: { v2: 'UINT8', onnx: 'UINT8', tfjs: 'int32', size: 1 },
  [TfDtype.DT_UINT16]: { v2: 'UINT16', onnx: 'UINT16', tfjs: 'int32', size: 2 },
  [TfDtype.DT_UINT32]: { v2: 'UINT32', onnx: 'UINT32', tfjs: 'int32', size: 4 },
  [TfDtype.DT_UINT64]: { v2: 'UINT64', onnx: 'UINT64', tfjs: 'int32', size: 8 },
  [TfDtype.DT_BOOL]: { v2: 'BOOL', onnx: 'BOOL', tfjs: 'bool', size: 1 },
  [TfDtype.DT_STRING]: { v2: 'BYTES', onnx: 'STRING', tfjs: 'string' },
  [TfDtype.DT_QINT8]: { size: 1 },
  [TfDtype.DT_QUINT8]: { size: 1 },
  [TfDtype.DT_QINT16]: { size: 2 },
  [TfDtype.DT_QUINT16]: { size: 2 },
  [TfDtype.DT_QINT32]: { size: 4 },
  [TfDtype.DT_COMPLEX64]: { size: 8 },
  [TfDtype.DT_COMPLEX128]: { size: 16 },
};

const NAMES = new Map<number, string>(Object.entries(TfDtype).map(([k, v]) => [v, k]));

/** The base type of a `_REF` dtype (TF1 reference variables add 100). */
export function baseDtype(dt: number): number {
  return dt > 100 ? dt - 100 : dt;
}

/** `DT_FLOAT`-style name of a dtype enum value (for messages and tfjs graph JSON). */
export function dtypeName(dt: number): string {
  const base = NAMES.get(baseDtype(dt));
  if (base === undefined) return `DT_UNKNOWN(${dt})`;
  return dt > 100 ? `${base}_REF` : base;
}

/** The V2 datatype of a TF dtype (`_REF` types map like their base), or undefined when V2 has none. */
export function v2Datatype(dt: number): Datatype | undefined {
  return DTYPES[baseDtype(dt)]?.v2;
}

/** The ONNX element type of a TF dtype (`_REF` types map like their base), or undefined when ONNX has none. */
export function onnxElemType(dt: number): OnnxElemType | undefined {
  return DTYPES[baseDtype(dt)]?.onnx;
}

/** The ONNX element type of a TF dtype; throws naming the dtype when ONNX has none. */
export function requireOnnxElemType(dt: number): OnnxElemType {
  const t = onnxElemType(dt);
  if (t === undefined) throw new Error(`TF dtype ${dtypeName(dt)} has no ONNX element type`);
  return t;
}

/** The tfjs dtype a TF dtype is computed in (tfjs has no 64-bit, 8/16-bit or unsigned types), or undefined. */
export function tfjsDtype(dt: number): TfjsDtype | undefined {
  return DTYPES[baseDtype(dt)]?.tfjs;
}

/** Bytes per element of fixed-size TF dtypes (undefined for strings, resources, variants). */
export function tfElementSize(dt: number): number | undefined {
  return DTYPES[baseDtype(dt)]?.size;
}
