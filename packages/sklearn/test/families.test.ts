import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type ConvertedSklearnModel, loadSklearnModel } from '../src/index.js';
import type { GraphFeed } from '../src/request-encoding.js';
import { expectClose, localFixture, readJson } from './helpers.js';

interface Case {
  name: string;
  file: string;
  input_kind: 'matrix' | 'strings' | 'text';
  inputs: unknown[];
  methods: Record<string, unknown[]>;
  classes?: (number | string)[];
}

const expected = readJson<{ cases: Case[] }>(localFixture('families/expected.json'));

/** Every method output of the graph, flattened, with its dims. */
async function runMethods(
  model: ConvertedSklearnModel,
  feeds: GraphFeed[],
): Promise<Record<string, { data: unknown[]; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(model.onnx);
  const input: Record<string, ort.Tensor> = {};
  for (const f of feeds) input[f.name] = new ort.Tensor(f.type === 'DOUBLE' ? 'float64' : 'string', f.data, f.dims);
  const out = await session.run(input);
  await session.release();
  const res: Record<string, { data: unknown[]; dims: readonly number[] }> = {};
  for (const [method, { output }] of Object.entries(model.methods)) {
    const t = out[output]!;
    res[method] = {
      data: Array.from(t.data as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : v)),
      dims: t.dims,
    };
  }
  return res;
}

/**
 * Tolerances: every graph matches scikit-learn within 1e-9 relative (+1e-12 absolute), except AdaBoost over decision
 * trees, whose leaf values come out of onnxruntime's TreeEnsembleRegressor as float32 (1e-6 there).
 */
const rtolOf = (name: string): number => (name === 'ada_samme_r' || name === 'ada_regressor' ? 1e-6 : 1e-9);

const nums = (v: unknown[]): number[] => (v.flat(2) as unknown[]).map((x) => (x === null ? Number.NaN : (x as number)));

describe.each(expected.cases.map((c) => [c.name, c] as const))('scikit-learn 1.2.1 %s', (_name, c) => {
  it('serves the same methods and matches every one of them', async () => {
    const model = await loadSklearnModel(localFixture(`families/${c.file}`));
    expect(Object.keys(model.methods).sort()).toEqual(Object.keys(c.methods).sort());
    const feeds = model.encoder.encodeInstances(c.inputs);
    const got = await runMethods(model, feeds);
    if (c.classes) expect(model.classes).toEqual(c.classes);
    for (const [method, want] of Object.entries(c.methods)) {
      const g = got[method]!;
      const flat = (want as unknown[]).flat(2);
      expect(g.data.length, method).toBe(flat.length);
      if (flat.some((v) => typeof v === 'string') || (method === 'predict' && model.task !== 'regressor')) {
        expect(g.data, method).toEqual(flat);
      } else {
        expectClose(g.data as number[], nums(want), rtolOf(c.name), 1e-12);
      }
    }
  });
});
