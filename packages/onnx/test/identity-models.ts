// Identity models over one tensor type, built in memory, and sample values for every tensor type onnxruntime
// accepts. Shared by onnx-model.test.ts (through OnnxModel) and ort-direct.test.ts (the session runners).
import type { Datatype } from '@servekit/core';
import { GraphBuilder, type OnnxElemType } from '@servekit/onnx';

/** An Identity model over one tensor type, built in memory. */
export function identity(elem: OnnxElemType, shape: Array<number | string> = ['N', 2]): Uint8Array {
  const g = new GraphBuilder();
  g.input('x', elem, shape);
  g.node('Identity', ['x'], ['y']);
  g.output('y', elem, shape);
  return g.toBytes();
}

/** ONNX element type ⇄ V2 datatype ⇄ sample JSON values, for every tensor type onnxruntime accepts. */
export const TENSOR_TYPES: ReadonlyArray<[OnnxElemType, Datatype, unknown[]]> = [
  ['BOOL', 'BOOL', [true, false, false, true]],
  ['UINT8', 'UINT8', [0, 1, 200, 255]],
  ['UINT16', 'UINT16', [0, 1, 60000, 65535]],
  ['UINT32', 'UINT32', [0, 1, 4e9, 4294967295]],
  ['UINT64', 'UINT64', [0, 1, 2 ** 40, Number.MAX_SAFE_INTEGER]],
  ['INT8', 'INT8', [-128, -1, 0, 127]],
  ['INT16', 'INT16', [-32768, -1, 0, 32767]],
  ['INT32', 'INT32', [-(2 ** 31), -1, 0, 2 ** 31 - 1]],
  ['INT64', 'INT64', [-Number.MAX_SAFE_INTEGER, -1, 0, Number.MAX_SAFE_INTEGER]],
  ['FLOAT16', 'FP16', [1, -2, 0.5, 65504]],
  ['FLOAT', 'FP32', [1.5, -2.25, 0, 3.0e38]],
  ['DOUBLE', 'FP64', [0.1, -1e300, 0, Math.PI]],
  ['STRING', 'BYTES', ['a', 'héllo', '', 'z']],
];
