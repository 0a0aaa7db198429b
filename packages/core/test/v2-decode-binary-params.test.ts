import { describe, expect, it } from 'vitest';
import { decodeInferRequest } from '../src/protocols/v2-codec.js';

const bytes = new Uint8Array(new Float32Array([1, 2]).buffer);

describe('decodeInferRequest: parameters of a binary input', () => {
  it('drops binary_data_size alone, and keeps every other parameter', () => {
    const plain = decodeInferRequest(
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }] },
      bytes,
    );
    expect(plain.inputs[0]!.parameters).toBeUndefined();
    expect(Array.from(plain.inputs[0]!.data as Float32Array)).toEqual([1, 2]);
    const withOther = decodeInferRequest(
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { scale: 2, binary_data_size: 8 } }] },
      bytes,
    );
    expect(withOther.inputs[0]!.parameters).toEqual({ scale: 2 });
  });
});
