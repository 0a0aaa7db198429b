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

describe('GraphBuilder subgraphs', () => {
  it('runs an ONNX Loop: body subgraph, loop-carried value, outer-scope constant, condition output', async () => {
    // x ← x · 2 while x < limit, at most 10 times; the body reads `two` and `limit` from the outer graph.
    const g = new GraphBuilder();
    g.opset('', 19);
    g.input('X', 'DOUBLE', [1]);
    const two = g.constant('two', { type: 'DOUBLE', dims: [], values: [2] });
    const limit = g.constant('limit', { type: 'DOUBLE', dims: [], values: [100] });
    const maxTrips = g.constant('max_trips', { type: 'INT64', dims: [], values: [10] });
    const start = g.constant('start', { type: 'BOOL', dims: [], values: [1] });
    const body = g.subgraph('body');
    body.input('iter', 'INT64', []);
    body.input('cond_in', 'BOOL', []);
    body.input('x_in', 'DOUBLE', [1]);
    const [x] = body.node('Mul', ['x_in', two]);
    const [sum] = body.node('ReduceSum', [x!], 1, { keepdims: attr.i(0) });
    const [cond] = body.node('Less', [sum!, limit]);
    const [trips] = body.node('Cast', ['iter'], 1, { to: attr.i(11) });
    body.node('Identity', [cond!], ['cond_out']);
    body.node('Identity', [x!], ['x_out']);
    body.node('Identity', [trips!], ['trip_out']);
    body.output('cond_out', 'BOOL', []);
    body.output('x_out', 'DOUBLE', [1]);
    body.output('trip_out', 'DOUBLE', []);
    g.node('Loop', [maxTrips, start, 'X'], ['Y', 'TRIPS'], { body: attr.g(body) });
    g.output('Y', 'DOUBLE', [1]);
    g.output('TRIPS', 'DOUBLE', ['T']);
    const session = await ort.InferenceSession.create(g.toBytes());
    const run = async (v: number): Promise<[number[], number[]]> => {
      const out = await session.run({ X: new ort.Tensor('float64', Float64Array.from([v]), [1]) });
      return [Array.from(out.Y!.data as Float64Array), Array.from(out.TRIPS!.data as Float64Array)];
    };
    expect(await run(3)).toEqual([[192], [0, 1, 2, 3, 4, 5]]); // stops when the condition turns false
    expect(await run(0.001)).toEqual([[1.024], Array.from({ length: 10 }, (_, i) => i)]); // stops at max trips
    await session.release();
  });

  it('draws subgraph names from the outer counter, so they never shadow outer names', () => {
    const g = new GraphBuilder();
    const a = g.uniqueName('t');
    const b = g.subgraph('s').uniqueName('t');
    expect(a).not.toBe(b);
  });
});
