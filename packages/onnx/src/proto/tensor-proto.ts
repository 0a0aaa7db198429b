import type { Datatype, InferTensor, TensorData } from '@servekit/core';
import { elementCount } from '@servekit/core';
import { allocate, type FixedDatatype, viewBytes } from '@servekit/core/wire';
import { OnnxDataType, TensorProtoType } from './onnx-schema.js';

const V2_OF_ONNX: Record<number, Datatype> = {
  [OnnxDataType.FLOAT]: 'FP32',
  [OnnxDataType.UINT8]: 'UINT8',
  [OnnxDataType.INT8]: 'INT8',
  [OnnxDataType.UINT16]: 'UINT16',
  [OnnxDataType.INT16]: 'INT16',
  [OnnxDataType.INT32]: 'INT32',
  [OnnxDataType.INT64]: 'INT64',
  [OnnxDataType.STRING]: 'BYTES',
  [OnnxDataType.BOOL]: 'BOOL',
  [OnnxDataType.FLOAT16]: 'FP16',
  [OnnxDataType.DOUBLE]: 'FP64',
  [OnnxDataType.UINT32]: 'UINT32',
  [OnnxDataType.UINT64]: 'UINT64',
  [OnnxDataType.BFLOAT16]: 'BF16',
};

interface TensorProtoObject {
  name?: string;
  dims?: Array<string | number>;
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Array<string | number>;
  uint64Data?: Array<string | number>;
  doubleData?: number[];
  stringData?: Uint8Array[];
}

/** Decode a serialized onnx.TensorProto (e.g. an ONNX test set's `input_0.pb`) into an InferTensor. */
export function tensorFromProto(bytes: Uint8Array, fallbackName = 'tensor'): InferTensor {
  const t = TensorProtoType.toObject(TensorProtoType.decode(bytes), {
    longs: String,
    arrays: true,
  }) as TensorProtoObject;
  const datatype = V2_OF_ONNX[t.dataType ?? 0];
  if (!datatype) throw new Error(`TensorProto data type ${t.dataType} is not supported`);
  const shape = (t.dims ?? []).map(Number);
  const name = t.name || fallbackName;
  const count = elementCount(shape);
  let data: TensorData;
  if (datatype === 'BYTES') {
    data = t.stringData ?? [];
  } else if (t.rawData && t.rawData.byteLength > 0) {
    data = viewBytes(datatype as FixedDatatype, t.rawData);
  } else {
    const out = allocate(datatype as FixedDatatype, count);
    const src: ArrayLike<number | string> = t.floatData?.length
      ? t.floatData
      : t.doubleData?.length
        ? t.doubleData
        : t.int64Data?.length
          ? t.int64Data
          : t.uint64Data?.length
            ? t.uint64Data
            : (t.int32Data ?? []);
    for (let i = 0; i < count; i++) {
      (out as unknown as Array<number | bigint>)[i] =
        datatype === 'INT64' || datatype === 'UINT64' ? BigInt(src[i]!) : Number(src[i]);
    }
    data = out;
  }
  return { name, datatype, shape, data };
}
