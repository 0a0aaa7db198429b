import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr, GraphBuilder } from '../src/proto/graph-builder.js';

describe('GraphBuilder', () => {
  it('builds a model onnxruntime runs (Gemm + ai.onnx.ml LinearRegressor)', async () => {
    const g = new GraphBuilder();
    g.input('X', 'FLOAT', ['N', 2]);
    const w = g.constant('W', { type: 'FLOAT', dims: [2, 1], values: [2, 3] });
    const b = g.constant('B', { type: 'FLOAT', dims: [1], values: [1] });
    g.node('Gemm', ['X', w, b], ['Y'], { alpha: attr.f(1) });
    g.node(
      'LinearRegressor',
      ['X'],
      ['Z'],
      { coefficients: attr.floats([1, 1]), intercepts: attr.floats([0.5]) },
      'ai.onnx.ml',
    );
    g.output('Y', 'FLOAT', ['N', 1]);
    g.output('Z', 'FLOAT', ['N', 1]);
    const session = await ort.InferenceSession.create(g.toBytes());
    const out = await session.run({ X: new ort.Tensor('float32', Float32Array.from([1, 1, 2, 0]), [2, 2]) });
    expect(Array.from(out.Y!.data as Float32Array)).toEqual([6, 5]);
    expect(Array.from(out.Z!.data as Float32Array)).toEqual([2.5, 2.5]);
  });
});
