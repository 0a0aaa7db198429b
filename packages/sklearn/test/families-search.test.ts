// Searches (served as best_estimator_), SGDOneClassSVM, GaussianProcessRegressor predict_std,
// GaussianProcessClassifier and RadiusNeighborsClassifier(outlier_label=None), from
// test/fixtures/_generators/gen_sklearn_search.py (real scikit-learn 1.2.1): every method the graph serves equals
// scikit-learn's output for it within 1e-9 relative, and what cannot match is refused with the reason.

import { readFileSync } from 'node:fs';
import type * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  convertSklearnBytes,
  loadSklearnModel,
  supportedEstimators,
  UnsafePickleError,
  UnsupportedEstimatorError,
} from '../src/index.js';
import { expectClose, localFixture, readJson, runGraph } from './helpers.js';
import { obj, type Py, pickle } from './pickle-builder.js';

interface Case {
  name: string;
  file: string;
  inputs: number[][];
  methods: Record<string, unknown[]>;
  classes?: (number | string)[];
}

const expected = readJson<{ cases: Case[]; radius_refusal: { inputs: number[][]; rows: number[] } }>(
  localFixture('search/expected.json'),
);

const values = (t: ort.Tensor): unknown[] =>
  Array.from(t.data as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : v));
const nums = (v: unknown[]): number[] => (v.flat(2) as unknown[]).map((x) => (x === null ? Number.NaN : (x as number)));

describe.each(expected.cases.map((c) => [c.name, c] as const))('scikit-learn 1.2.1 %s', (_name, c) => {
  it('serves the same methods and matches every one of them', async () => {
    const model = await loadSklearnModel(localFixture(`search/${c.file}`));
    // a KNeighbors* best_estimator_ also serves kneighbors, checked against scikit-learn in neighbors-kneighbors.test.ts
    const served = Object.keys(model.methods).filter((m) => m !== 'kneighbors');
    expect(served.sort()).toEqual(Object.keys(c.methods).sort());
    const out = await runGraph(model, model.encoder.encodeInstances(c.inputs));
    if (c.classes) expect(model.classes).toEqual(c.classes);
    for (const [method, want] of Object.entries(c.methods)) {
      const t = out[model.methods[method as keyof typeof model.methods]!.output]!;
      const got = values(t);
      const shape = Array.isArray(want[0]) ? [want.length, (want[0] as unknown[]).length] : [want.length];
      expect([...t.dims], `${method} shape`).toEqual(shape);
      const flat = want.flat(2);
      if (method === 'predict' && model.task !== 'regressor') expect(got, method).toEqual(flat);
      else expectClose(got as number[], nums(want), 1e-9, 1e-12);
    }
  });
});

const file = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`search/${name}.joblib`)));

describe('searches, Gaussian process classifiers and radius neighbours: what is refused and why', () => {
  it('a search fitted with refit=False has no best_estimator_: refused, saying how to refit', () => {
    const run = (): unknown => convertSklearnBytes(file('refused_grid_search_no_refit'));
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(/GridSearchCV\(refit=False\) has no best_estimator_ to serve: fit the search with refit=True/);
  });

  it('a RandomizedSearchCV over scipy.stats distributions is refused by the unpickler, naming the module', () => {
    // scipy.stats is not on the list: frozen distributions also pickle numpy.vectorize objects and bound methods
    const run = (): unknown => convertSklearnBytes(file('refused_random_search_scipy_distributions'));
    expect(run).toThrow(UnsafePickleError);
    expect(run).toThrow(/'scipy\.stats\./);
  });

  it("GaussianProcessClassifier(multi_class='one_vs_one') has no predict_proba in scikit-learn: refused", () => {
    expect(() => convertSklearnBytes(file('refused_gpc_one_vs_one'))).toThrow(
      /GaussianProcessClassifier\(multi_class='one_vs_one'\) is not supported/,
    );
  });

  it('a search serves its best estimator under the best estimator name, with its classes', async () => {
    const m = await loadSklearnModel(localFixture('search/grid_search_knn_weights.joblib'));
    expect(m.estimator).toBe('KNeighborsClassifier');
    expect(m.classes).toEqual([0, 1, 2]);
  });

  it.each(['radius_clf_no_outlier_label', 'voting_radius_no_outlier_label'])(
    '%s: RadiusNeighborsClassifier(outlier_label=None) flags exactly the rows scikit-learn raises for',
    async (name) => {
      const m = convertSklearnBytes(file(name));
      expect(m.rowRefusal?.reason).toMatch(
        /have no training row within radius 0.8 \(the model has outlier_label=None\)/,
      );
      const { inputs, rows } = expected.radius_refusal;
      const out = await runGraph(m, m.encoder.encodeInstances(inputs));
      const flags = values(out[m.rowRefusal!.output]!) as number[];
      expect(flags.flatMap((f, i) => (f !== 0 ? [i] : []))).toEqual(rows);
    },
  );

  describe('past 2048 training rows the posterior variance (an [m, m] constant) is not built', () => {
    const m = 2049;
    const column = (v: (i: number) => number): Py => ({ f64: Array.from({ length: m }, (_, i) => v(i)) });
    const rbf = obj('sklearn.gaussian_process.kernels.RBF', { length_scale: 1.0 });
    const fit: Py = { f64: Array.from({ length: m }, (_, i) => i / m), shape: [m, 1] };
    const member = obj('sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace', {
      X_train_: fit,
      kernel_: rbf,
      y_train_: column((i) => i % 2),
      pi_: column(() => 0.5),
    });
    it('GaussianProcessRegressor serves predict only', () => {
      const gpr = obj('sklearn.gaussian_process._gpr.GaussianProcessRegressor', {
        n_features_in_: 1,
        X_train_: fit,
        kernel_: rbf,
        alpha_: column(() => 0.001),
        _y_train_mean: { f64: [0] },
        _y_train_std: { f64: [1] },
      });
      expect(Object.keys(convertSklearnBytes(pickle(gpr)).methods)).toEqual(['predict']);
    });
    it('a binary GaussianProcessClassifier serves predict only; a multiclass one is refused', () => {
      const gpc = (classes: number[], base: Py): Py =>
        obj('sklearn.gaussian_process._gpc.GaussianProcessClassifier', {
          n_features_in_: 1,
          classes_: { f64: classes },
          multi_class: 'one_vs_rest',
          base_estimator_: base,
        });
      expect(Object.keys(convertSklearnBytes(pickle(gpc([0, 1], member))).methods)).toEqual(['predict']);
      const ovr = obj('sklearn.multiclass.OneVsRestClassifier', { estimators_: [member, member, member] });
      expect(() => convertSklearnBytes(pickle(gpc([0, 1, 2], ovr)))).toThrow(
        /multiclass GaussianProcessClassifier with more than 2048 training rows is not supported/,
      );
    });
  });

  it('lists the new estimators as supported', () => {
    const names = supportedEstimators();
    for (const n of [
      'GridSearchCV',
      'RandomizedSearchCV',
      'HalvingGridSearchCV',
      'HalvingRandomSearchCV',
      'SGDOneClassSVM',
      'GaussianProcessClassifier',
    ])
      expect(names, n).toContain(n);
    expect(names.length).toBe(152);
  });
});
