import { describe, expect, it } from 'vitest';
import { loadSklearnModel } from '../src/index.js';
import { expectClose, localFixture, readJson, runMethods } from './helpers.js';

interface Case {
  name: string;
  file: string;
  inputs: unknown[];
  methods: Record<string, unknown[]>;
  classes?: (number | string)[];
}

/** Each sweep's folder and the scikit-learn version that wrote it. */
const SWEEPS = [
  { dir: 'trixie', sklearn: '1.4.2' },
  { dir: 'forky', sklearn: '1.9.0' },
] as const;

/**
 * 1e-9 relative (+1e-12 absolute), except where onnxruntime computes in float32 by design, as for the 1.2.1 fixtures
 * (generated.test.ts): tree ensembles (TreeEnsemble keeps thresholds and leaf values in float32: 1e-6) and SVC / NuSVC
 * probabilities (SVMClassifier's kernels in float32: 1e-4; their decision_function is a float64 graph).
 */
const rtolOf = (name: string, method: string): number =>
  /^(svc|nusvc)_/.test(name) && method === 'predict_proba'
    ? 1e-4
    : /tree|forest|trees|gradient_boosting|hgb/.test(name)
      ? 1e-6
      : 1e-9;

const nums = (v: unknown[]): number[] => (v.flat(2) as unknown[]).map((x) => (x === null ? Number.NaN : (x as number)));

describe.each(SWEEPS)('$dir: scikit-learn $sklearn on NumPy 2', ({ dir, sklearn }) => {
  const expected = readJson<{ versions: Record<string, string>; cases: Case[] }>(localFixture(`${dir}/expected.json`));

  it('the fixtures were pickled by that scikit-learn on NumPy 2', () => {
    expect(expected.versions.sklearn).toBe(sklearn);
    expect(expected.versions.numpy).toMatch(/^2\./);
    expect(expected.cases.length).toBeGreaterThanOrEqual(90);
  });

  describe.each(expected.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    it('serves the same methods and matches every one of them', async () => {
      const model = await loadSklearnModel(localFixture(`${dir}/${c.file}`));
      // KNeighbors* also serve kneighbors, checked against scikit-learn in neighbors-kneighbors.test.ts
      const served = Object.keys(model.methods).filter((m) => m !== 'kneighbors');
      expect(served.sort()).toEqual(Object.keys(c.methods).sort());
      const got = await runMethods(model, model.encoder.encodeInstances(c.inputs));
      if (c.classes) expect(model.classes).toEqual(c.classes);
      for (const [method, want] of Object.entries(c.methods)) {
        const g = got[method]!.data;
        const flat = (want as unknown[]).flat(2);
        expect(g.length, method).toBe(flat.length);
        if (flat.some((v) => typeof v === 'string') || (method === 'predict' && model.task !== 'regressor')) {
          expect(g, method).toEqual(flat);
        } else {
          expectClose(g as number[], nums(want), rtolOf(c.name, method), 1e-12);
        }
      }
    });
  });
});
