import { describe, expect, it } from 'vitest';
import type { FrozenGraph } from '../src/graph/frozen-graph.js';
import { lowerFrozenGraph, UnsupportedTfOps, unmappedOps } from '../src/onnx/index.js';
import { freezeSavedModel } from '../src/saved-model/load.js';
import { fixture, type TensorCase, tensorCases, tensorFromCase } from './helpers.js';
import { expectClose, nums, runLowered } from './onnx-helpers.js';

const graphs = new Map<string, ReturnType<typeof freezeSavedModel>>();
const frozen = (name: string) => {
  let f = graphs.get(name);
  if (f === undefined) {
    f = freezeSavedModel(fixture(name));
    graphs.set(name, f);
  }
  return f;
};

describe('expected.json cases, lowered to ONNX and run on onnxruntime', () => {
  it('covers at least the tensor cases of every servable fixture', () => {
    expect(tensorCases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(tensorCases)('$label', async ({ name, c }) => {
    const sig = frozen(name).signatures.find((s) => s.info.name === c.signature)!;
    expect(sig.graph, `${name}/${c.signature} is servable`).toBeDefined();
    expect(unmappedOps(sig.graph!)).toEqual([]);
    // TF does not enforce signature shapes (half_plus_two takes x [1] for a declared [-1, 1]): relax, as TF does.
    const lowered = lowerFrozenGraph(sig.graph!, { relaxInputShapes: true });
    expect(lowered.inputs.map((i) => i.name).sort()).toEqual(Object.keys(c.inputs!).sort());
    const out = await runLowered(
      lowered,
      Object.entries(c.inputs!).map(([k, v]) => tensorFromCase(k, v as TensorCase)),
    );
    expect([...out.keys()].sort()).toEqual(Object.keys(c.outputs!).sort());
    for (const [key, want] of Object.entries(c.outputs!)) {
      const got = out.get(key)!;
      if (want.shape !== undefined) expect([...got.dims]).toEqual(want.shape);
      expectClose(nums(got.data), want.data, 0, c.tolerance ?? 1e-6, key);
    }
  });

  it('keeps signature dtypes: uint8 in, int32 out; int64 in and out', () => {
    const u8 = lowerFrozenGraph(frozen('tfjs_uint8_multiply').signatures[0]!.graph!);
    expect(u8.inputs[0]).toMatchObject({ name: 'x', dtype: 4, shape: [1] });
    expect(u8.outputs[0]).toMatchObject({ name: 'output_0', dtype: 3 });
    const i64 = lowerFrozenGraph(frozen('tfjs_int64_multiply').signatures[0]!.graph!);
    expect(i64.outputs[0]!.dtype).toBe(9);
  });

  it('input-less signatures (tfrust_regression w, b) lower to constants', async () => {
    const f = frozen('tfrust_regression');
    const w = lowerFrozenGraph(f.signatures.find((s) => s.info.name === 'w')!.graph!);
    expect(w.inputs).toEqual([]);
    const out = await runLowered(w, []);
    expectClose(nums(out.get('output')!.data), [0.2042975], 0, 1e-6);
  });

  it('stateful signatures never reach the lowering: freezing refuses them naming the op', () => {
    for (const [name, sig, op] of [
      ['serving_counter', 'incr_counter', 'AssignAdd'],
      ['serving_counter', 'reset_counter', 'Assign'],
      ['tfrust_regression', 'train', 'ResourceApplyGradientDescent'],
    ] as const) {
      const s = frozen(name).signatures.find((x) => x.info.name === sig)!;
      expect(s.graph).toBeUndefined();
      expect(s.info.unservable).toContain(`op ${op}`);
    }
  });

  it('a graph holding a stateful or unknown op raises UnsupportedTfOps naming op and node', () => {
    const base = frozen('serving_half_plus_two_cpu').signatures.find((s) => s.info.name === 'serving_default')!.graph!;
    const graph: FrozenGraph = {
      ...base,
      nodes: [
        ...base.nodes,
        { name: 'bump', op: 'AssignAdd', inputs: [base.outputs[0]!.tensor], controlInputs: [], attrs: {} },
        { name: 'weird/op', op: 'FancyNewOp', inputs: ['bump'], controlInputs: [], attrs: {} },
        { name: 'weird/op2', op: 'FancyNewOp', inputs: ['bump'], controlInputs: [], attrs: {} },
      ],
    };
    expect(unmappedOps(graph)).toEqual(['AssignAdd', 'FancyNewOp']);
    let err: unknown;
    try {
      lowerFrozenGraph(graph);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedTfOps);
    expect((err as UnsupportedTfOps).ops).toEqual(['AssignAdd', 'FancyNewOp']);
    expect((err as Error).message).toContain('AssignAdd (node "bump")');
    expect((err as Error).message).toContain('FancyNewOp (node "weird/op")');
  });
});
