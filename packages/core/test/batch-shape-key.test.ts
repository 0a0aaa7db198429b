import { describe, expect, it } from 'vitest';
import { batchShape } from '../src/batching/merge-split.js';
import type { InferRequest, Parameters } from '../src/protocols/infer-types.js';

/** A one-input V2 request of `rows` rows of `width` FP32 (or `datatype`) values. */
function request(name: string, rows: number, width: number, extra: Partial<InferRequest> = {}, params?: Parameters) {
  const datatype = 'FP32';
  const req: InferRequest = {
    inputs: [{ name, datatype, shape: [rows, width], data: new Float32Array(rows * width) }],
    ...extra,
  };
  if (params) req.inputs[0]!.parameters = params;
  return req;
}

const keyOf = (r: InferRequest) => batchShape(r)?.key;

describe('batchShape keys of one-input requests', () => {
  it('are equal exactly when name, datatype, dims past dim 0, model parameters and outputs agree', () => {
    const base = keyOf(request('x', 1, 4));
    expect(keyOf(request('x', 3, 4))).toBe(base);
    expect(keyOf(request('x', 1, 4, {}, { binary_data_size: 16 }))).toBe(base);
    expect(keyOf(request('x', 1, 4, { id: 'a' }))).toBe(base);
    const others = [
      keyOf(request('x', 1, 5)),
      keyOf(request('y', 1, 4)),
      keyOf({ inputs: [{ name: 'x', datatype: 'INT32', shape: [1, 4], data: new Int32Array(4) }] }),
      keyOf(request('x', 1, 4, {}, { scale: 2 })),
      keyOf(request('x', 1, 4, { parameters: { mode: 'fast' } })),
      keyOf(request('x', 1, 4, { outputs: [{ name: 'o' }] })),
    ];
    for (const k of others) expect(k).not.toBe(base);
    expect(new Set(others).size).toBe(others.length);
    // Asked again after the others (the last key is remembered): still the first key, and each other one still its own.
    expect(keyOf(request('x', 2, 4))).toBe(base);
    expect(keyOf(request('x', 2, 5))).toBe(others[0]);
    expect(keyOf(request('x', 2, 4, {}, { scale: 2 }))).toBe(others[3]);
    expect(keyOf(request('x', 2, 4))).toBe(base);
  });

  it('match the key of the same input in a request that also names transport-only request parameters', () => {
    expect(keyOf(request('x', 1, 4, { parameters: { binary_data_output: true } }))).toBe(keyOf(request('x', 1, 4)));
  });
});
