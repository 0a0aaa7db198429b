import type { Datatype } from '@servekit/core';

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

const TO_V2: Partial<Record<number, Datatype>> = {
  [TfDtype.DT_FLOAT]: 'FP32',
  [TfDtype.DT_DOUBLE]: 'FP64',
  [TfDtype.DT_HALF]: 'FP16',
  [TfDtype.DT_BFLOAT16]: 'BF16',
  [TfDtype.DT_INT8]: 'INT8',
  [TfDtype.DT_INT16]: 'INT16',
  [TfDtype.DT_INT32]: 'INT32',
  [TfDtype.DT_INT64]: 'INT64',
  [TfDtype.DT_UINT8]: 'UINT8',
  [TfDtype.DT_UINT16]: 'UINT16',
  [TfDtype.DT_UINT32]: 'UINT32',
  [TfDtype.DT_UINT64]: 'UINT64',
  [TfDtype.DT_BOOL]: 'BOOL',
  [TfDtype.DT_STRING]: 'BYTES',
};

/** The V2 datatype of a TF dtype (`_REF` types map like their base), or undefined when V2 has none. */
export function v2Datatype(dt: number): Datatype | undefined {
  return TO_V2[baseDtype(dt)];
}

/** The dtypes tfjs computes in. */
export type TfjsDtype = 'float32' | 'int32' | 'bool' | 'string';

/** The tfjs dtype a TF dtype is computed in (tfjs has no 64-bit, 8/16-bit or unsigned types), or undefined. */
export function tfjsDtype(dt: number): TfjsDtype | undefined {
  switch (baseDtype(dt)) {
    case TfDtype.DT_FLOAT:
    case TfDtype.DT_DOUBLE:
    case TfDtype.DT_HALF:
    case TfDtype.DT_BFLOAT16:
      return 'float32';
    case TfDtype.DT_INT8:
    case TfDtype.DT_INT16:
    case TfDtype.DT_INT32:
    case TfDtype.DT_INT64:
    case TfDtype.DT_UINT8:
    case TfDtype.DT_UINT16:
    case TfDtype.DT_UINT32:
    case TfDtype.DT_UINT64:
      return 'int32';
    case TfDtype.DT_BOOL:
      return 'bool';
    case TfDtype.DT_STRING:
      return 'string';
    default:
      return undefined;
  }
}

/** Bytes per element of fixed-size TF dtypes (undefined for strings, resources, variants). */
export function tfElementSize(dt: number): number | undefined {
  switch (baseDtype(dt)) {
    case TfDtype.DT_BOOL:
    case TfDtype.DT_INT8:
    case TfDtype.DT_UINT8:
    case TfDtype.DT_QINT8:
    case TfDtype.DT_QUINT8:
      return 1;
    case TfDtype.DT_INT16:
    case TfDtype.DT_UINT16:
    case TfDtype.DT_HALF:
    case TfDtype.DT_BFLOAT16:
    case TfDtype.DT_QINT16:
    case TfDtype.DT_QUINT16:
      return 2;
    case TfDtype.DT_FLOAT:
    case TfDtype.DT_INT32:
    case TfDtype.DT_UINT32:
    case TfDtype.DT_QINT32:
      return 4;
    case TfDtype.DT_DOUBLE:
    case TfDtype.DT_INT64:
    case TfDtype.DT_UINT64:
    case TfDtype.DT_COMPLEX64:
      return 8;
    case TfDtype.DT_COMPLEX128:
      return 16;
    default:
      return undefined;
  }
}
