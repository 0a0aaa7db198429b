import type { InferTensor } from '@servekit/core';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import type { LoweredGraph } from '../src/onnx/index.js';

const ORT_TYPE: Record<string, ort.Tensor.Type> = {
  FP32: 'float32',
  FP64: 'float64',
  INT32: 'int32',
  INT64: 'int64',
  INT16: 'int16',
  INT8: 'int8',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  BOOL: 'bool',
};

/** Run a lowered graph on onnxruntime-node: inputs by signature key → outputs (data + dims) by key. */
export async function runLowered(
  lowered: LoweredGraph,
  inputs: InferTensor[],
): Promise<Map<string, { data: ArrayLike<number | bigint | boolean>; dims: readonly number[]; type: string }>> {
  const session = await ort.InferenceSession.create(lowered.bytes);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of inputs) {
      const type = ORT_TYPE[t.datatype];
      if (type === undefined) throw new Error(`no ORT type for ${t.datatype}`);
      feeds[t.name] = new ort.Tensor(type, t.data as never, t.shape);
    }
    const out = await session.run(feeds);
    return new Map(
      Object.entries(out).map(([k, v]) => [
        k,
        { data: v.data as ArrayLike<number | bigint | boolean>, dims: v.dims, type: v.type },
      ]),
    );
  } finally {
    await session.release();
  }
}

/** Numbers of a typed array (bigints and booleans become numbers). */
export const nums = (a: ArrayLike<number | bigint | boolean>): number[] => Array.from(a, (v) => Number(v));

/** Expect `got` ≈ `want` element-wise within atol + rtol·|want|, with the same length. */
export function expectClose(got: number[], want: number[], rtol = 1e-4, atol = 1e-5, label = ''): void {
  expect(got.length, `${label} length`).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    const err = Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (Number.isNaN(g) !== Number.isNaN(w) || err > worst) {
      worst = Number.isNaN(g) !== Number.isNaN(w) ? Number.POSITIVE_INFINITY : err;
      at = i;
    }
  }
  expect(at, `${label} mismatch at ${at}: got ${got[at]}, want ${want[at]}`).toBe(-1);
}
