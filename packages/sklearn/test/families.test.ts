import { describe, expect, it } from 'vitest';
import { loadSklearnModel } from '../src/index.js';
import { expectClose, localFixture, readJson, runMethods } from './helpers.js';

interface Case {
  name: string;
  file: string;
  input_kind: 'matrix' | 'strings' | 'text';
  inputs: unknown[];
  methods: Record<string, unknown[]>;
  classes?: (number | string)[];
}

const expected = readJson<{ cases: Case[] }>(localFixture('families/expected.json'));

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
