// More scikit-learn models (test/fixtures/_generators/gen_sklearn_models_more.py, real scikit-learn 1.2.1): every
// method the graph serves equals scikit-learn's output for it, and the options that cannot match are refused.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ConvertedSklearnModel,
  convertSklearnBytes,
  loadSklearnModel,
  supportedEstimators,
} from '../src/index.js';
import { expectClose, localFixture, readJson, runMethods } from './helpers.js';

interface Case {
  name: string;
  file: string;
  inputs: unknown[];
  methods: Record<string, unknown[]>;
  classes?: (number | string)[];
}

const expected = readJson<{ cases: Case[] }>(localFixture('models-more/expected.json'));

const nums = (v: unknown[]): number[] => (v.flat(2) as unknown[]).map((x) => (x === null ? Number.NaN : (x as number)));

/** Label-like outputs compared exactly: classifier/outlier/mixture predict, and MultiOutputClassifier's columns. */
const exact = (model: ConvertedSklearnModel, method: string): boolean =>
  method === 'predict' && model.task !== 'regressor';

describe.each(expected.cases.map((c) => [c.name, c] as const))('scikit-learn 1.2.1 %s', (_name, c) => {
  it('serves the same methods and matches every one of them', async () => {
    const model = await loadSklearnModel(localFixture(`models-more/${c.file}`));
    // KNeighbors* also serve kneighbors, checked against scikit-learn in neighbors-kneighbors.test.ts
    const served = Object.keys(model.methods).filter((m) => m !== 'kneighbors');
    expect(served.sort()).toEqual(Object.keys(c.methods).sort());
    const got = await runMethods(model, model.encoder.encodeInstances(c.inputs));
    if (c.classes) expect(model.classes).toEqual(c.classes);
    for (const [method, want] of Object.entries(c.methods)) {
      const g = got[method]!;
      const flat = (want as unknown[]).flat(2);
      expect(g.data.length, method).toBe(flat.length);
      const shape = Array.isArray(want[0]) ? [want.length, (want[0] as unknown[]).length] : [want.length];
      expect([...g.dims], `${method} shape`).toEqual(shape);
      if (flat.some((v) => typeof v === 'string') || exact(model, method)) expect(g.data, method).toEqual(flat);
      else expectClose(g.data as number[], nums(want), 1e-9, 1e-12);
    }
  });
});

const file = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`models-more/${name}.joblib`)));

describe('what cannot match scikit-learn is refused with the reason', () => {
  it('RadiusNeighborsClassifier(outlier_label=None) is served; the rows sklearn raises for are flagged for a 400', () => {
    const m = convertSklearnBytes(file('refused_radius_clf_no_outlier_label'));
    expect(m.rowRefusal?.reason).toMatch(/have no training row within radius 0.5 \(the model has outlier_label=None\)/);
  });
  it('LocalOutlierFactor(novelty=False) has no method for new rows', () => {
    expect(() => convertSklearnBytes(file('refused_lof_outlier_detection'))).toThrow(
      /LocalOutlierFactor\(novelty=False\) only labels its training data/,
    );
  });
  it('lists the new estimators as supported', () => {
    const names = supportedEstimators();
    for (const n of [
      'RadiusNeighborsClassifier',
      'RadiusNeighborsRegressor',
      'OneClassSVM',
      'GaussianProcessRegressor',
      'LocalOutlierFactor',
      'CategoricalNB',
      'MultiOutputClassifier',
      'BayesianGaussianMixture',
      'NeighborhoodComponentsAnalysis',
      'KernelCenterer',
    ])
      expect(names, n).toContain(n);
  });
});
