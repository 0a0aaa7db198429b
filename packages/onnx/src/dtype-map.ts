import type { Datatype } from '@servekit/core';
import type { Tensor } from 'onnxruntime-node';

/** onnxruntime tensor type for each V2 datatype ORT accepts (BF16 has no ORT type). */
export const V2_TO_ORT: Partial<Record<Datatype, Tensor.Type>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

/** V2 datatype of each onnxruntime tensor type. */
export const ORT_TO_V2: Partial<Record<Tensor.Type, Datatype>> = Object.fromEntries(
  Object.entries(V2_TO_ORT).map(([v2, ort]) => [ort, v2 as Datatype]),
) as Partial<Record<Tensor.Type, Datatype>>;

/** V2 datatype of an ORT type; throws for types servekit cannot carry (e.g. complex). */
export function v2Datatype(type: Tensor.Type): Datatype {
  const dt = ORT_TO_V2[type];
  if (!dt) throw new Error(`onnxruntime type ${type} has no V2 datatype`);
  return dt;
}
