// concatTensors marks the merged typed array as owned by its inference, so a worker-thread session may transfer it.
import { describe, expect, it } from 'vitest';
import { concatTensors } from '../src/batching/merge-split.js';
import { takeOwnedBuffer } from '../src/tensor/owned-buffers.js';

describe('concatTensors: owned merged buffer', () => {
  it('marks the merged FP32 data owned, and never the members’ data', () => {
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([5, 6]);
    const merged = concatTensors([
      { name: 'x', datatype: 'FP32', shape: [2, 2], data: a },
      { name: 'x', datatype: 'FP32', shape: [1, 2], data: b },
    ]);
    expect(Array.from(merged.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(takeOwnedBuffer(a)).toBe(false);
    expect(takeOwnedBuffer(b)).toBe(false);
    expect(takeOwnedBuffer(merged.data as Float32Array)).toBe(true);
  });
});
