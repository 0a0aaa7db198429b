// The allow-list rule for the search, SGDOneClassSVM, Gaussian process and radius-neighbour families: each family's
// module renamed off the list is refused before anything is built, numpy masked arrays are rebuilt as bounded inert
// records, and hostile state is refused with a message that names the class and the attribute.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertSklearnBytes, PickleLimitError, UnsafePickleError } from '../src/index.js';
import { PickleFormatError } from '../src/pickle/errors.js';
import { readJoblibBytes } from '../src/pickle/joblib.js';
import { isNdArray, isPyDict, isPyObject } from '../src/pickle/py-types.js';
import { localFixture } from './helpers.js';
import { obj, type Py, pickle, renamedPickle } from './pickle-builder.js';

const file = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`search/${name}.joblib`)));

/** numpy.ma's pickle of a masked array: _mareconstruct(...), then BUILD with its 7-tuple state. */
const masked = (shape: number[], data: Uint8Array, mask: Uint8Array, version: Py = 1): Py => ({
  reduce: 'numpy.ma.core._mareconstruct',
  args: [{ global: 'numpy.ma.core.MaskedArray' }, { global: 'numpy.ndarray' }, { tuple: [0] }, 'b'],
  build: {
    tuple: [
      version,
      { tuple: shape },
      { reduce: 'numpy.dtype', args: ['<f8'] },
      false,
      { bytes: data },
      { bytes: mask },
      null,
    ],
  },
});
const f64Bytes = (values: number[]): Uint8Array => new Uint8Array(Float64Array.from(values).buffer);

describe('the search, one-class, Gaussian process and radius families keep the allow-list rule', () => {
  const families: [string, string, string][] = [
    ['grid_search_knn_weights', 'sklearn.model_selection', 'sklearx.model_selection'],
    ['grid_search_knn_weights', 'numpy.ma.core', 'numpy.ma.corx'],
    ['halving_random_search_ridge', 'sklearn.model_selection', 'sklearx.model_selection'],
    ['random_search_tree', 'numpy.ma.core', 'numpy.mb.core'],
    ['sgd_one_class_svm', 'sklearn.linear_model', 'sklearx.linear_model'],
    ['gpr_std_rbf', 'sklearn.gaussian_process', 'sklearx.gaussian_process'],
    ['gpc_one_vs_rest_rbf', 'sklearn.gaussian_process', 'sklearx.gaussian_process'],
    ['radius_clf_no_outlier_label', 'sklearn.neighbors', 'sklearx.neighbors'],
  ];
  it.each(families)('%s: %s renamed %s is refused', (name, from, to) => {
    expect(() => readJoblibBytes(file(name))).not.toThrow();
    const bytes = renamedPickle(file(name), from, to);
    expect(() => readJoblibBytes(bytes)).toThrow(UnsafePickleError);
    expect(() => readJoblibBytes(bytes)).toThrow(new RegExp(to.replace('.', '\\.')));
  });

  it("a search's cv_results_ masked arrays are inert arrays with their mask", () => {
    const root = readJoblibBytes(file('grid_search_knn_weights'));
    if (!isPyObject(root) || !isPyDict(root.state)) throw new Error('not an estimator');
    const results = root.state.get('cv_results_');
    if (!isPyDict(results)) throw new Error('no cv_results_');
    const column = results.get('param_n_neighbors');
    expect(isNdArray(column) && column.mask !== undefined).toBe(true);
    if (isNdArray(column)) {
      expect(column.dtype.char).toBe('O');
      expect(column.shape).toEqual([6]);
      expect(Array.from(column.mask!.data as Uint8Array)).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });

  it('a masked array is rebuilt without running anything: data, mask and shape as pickled', () => {
    const root = readJoblibBytes(pickle(masked([3], f64Bytes([1, 2, 3]), Uint8Array.of(0, 1, 0))));
    expect(isNdArray(root)).toBe(true);
    if (isNdArray(root)) {
      expect(Array.from(root.data as Float64Array)).toEqual([1, 2, 3]);
      expect(Array.from(root.mask!.data as Uint8Array)).toEqual([0, 1, 0]);
    }
  });

  it('a masked array whose mask does not cover its elements is refused', () => {
    const run = (): unknown => readJoblibBytes(pickle(masked([3], f64Bytes([1, 2, 3]), Uint8Array.of(0, 1))));
    expect(run).toThrow(PickleFormatError);
    expect(run).toThrow(/masked array mask has 2 bytes for 3 elements of shape \[3\]/);
  });

  it('a masked array declaring more elements than the file budget is refused before it is allocated', () => {
    const run = (): unknown => readJoblibBytes(pickle(masked([2 ** 40], f64Bytes([1]), Uint8Array.of(0))));
    expect(run).toThrow(PickleLimitError);
  });

  it('a masked array whose state is not the 7-tuple numpy writes is refused', () => {
    const bad: Py = {
      reduce: 'numpy.ma.core._mareconstruct',
      args: [{ global: 'numpy.ma.core.MaskedArray' }, { global: 'numpy.ndarray' }, { tuple: [0] }, 'b'],
      build: 'rm -rf /',
    };
    expect(() => readJoblibBytes(pickle(bad))).toThrow(/numpy masked array state is not a 7-tuple/);
  });

  const gpr = (extra: Record<string, Py>): Py =>
    obj('sklearn.gaussian_process._gpr.GaussianProcessRegressor', {
      n_features_in_: 1,
      X_train_: { f64: [0, 1], shape: [2, 1] },
      kernel_: obj('sklearn.gaussian_process.kernels.RBF', { length_scale: 1.0 }),
      alpha_: { f64: [0.5, -0.5] },
      _y_train_mean: { f64: [0] },
      _y_train_std: { f64: [1] },
      ...extra,
    });
  const binaryGpc = (extra: Record<string, Py>): Py =>
    obj('sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace', {
      X_train_: { f64: [0, 1], shape: [2, 1] },
      kernel_: obj('sklearn.gaussian_process.kernels.RBF', { length_scale: 1.0 }),
      y_train_: { f64: [0, 1] },
      pi_: { f64: [0.4, 0.6] },
      W_sr_: { f64: [0.5, 0.5] },
      L_: { f64: [1, 0, 0.5, 1], shape: [2, 2] },
      ...extra,
    });
  const gpc = (base: Py): Py =>
    obj('sklearn.gaussian_process._gpc.GaussianProcessClassifier', {
      n_features_in_: 1,
      classes_: { f64: [0, 1] },
      multi_class: 'one_vs_rest',
      base_estimator_: base,
    });

  const hostile: [string, Py, RegExp][] = [
    [
      'GridSearchCV.best_estimator_ a string',
      obj('sklearn.model_selection._search.GridSearchCV', { refit: true, best_estimator_: 'rm -rf /' }),
      /GridSearchCV\.best_estimator_ is not an estimator/,
    ],
    [
      'RandomizedSearchCV without best_estimator_',
      obj('sklearn.model_selection._search.RandomizedSearchCV', { refit: true }),
      /RandomizedSearchCV has no best_estimator_ \(is it fitted\?\)/,
    ],
    [
      'SGDOneClassSVM.coef_ a string',
      obj('sklearn.linear_model._stochastic_gradient.SGDOneClassSVM', {
        n_features_in_: 2,
        coef_: 'x',
        offset_: { f64: [1] },
      }),
      /SGDOneClassSVM\.coef_ is not an array/,
    ],
    [
      'SGDOneClassSVM.coef_ of the wrong width',
      obj('sklearn.linear_model._stochastic_gradient.SGDOneClassSVM', {
        n_features_in_: 2,
        coef_: { f64: [1, 2, 3] },
        offset_: { f64: [1] },
      }),
      /SGDOneClassSVM coef_ has 3 weights for 2 input features/,
    ],
    [
      'GaussianProcessRegressor.L_ of the wrong shape',
      gpr({ L_: { f64: [1, 0, 0, 0, 1, 0, 0, 0, 1], shape: [3, 3] } }),
      /GaussianProcessRegressor L_ must be \[2, 2\]/,
    ],
    [
      'GaussianProcessRegressor.L_ not lower triangular',
      gpr({ L_: { f64: [1, 2, 0, 1], shape: [2, 2] } }),
      /GaussianProcessRegressor L_ is not lower triangular/,
    ],
    [
      'GaussianProcessClassifier.base_estimator_ a string',
      gpc('rm -rf /'),
      /GaussianProcessClassifier\.base_estimator_ is not an estimator object/,
    ],
    [
      'GaussianProcessClassifier member pi_ of the wrong length',
      gpc(binaryGpc({ pi_: { f64: [0.4, 0.6, 0.1] } })),
      /_BinaryGaussianProcessClassifierLaplace pi_ has 3 values for 2 training rows/,
    ],
    [
      'GaussianProcessClassifier member L_ with a zero diagonal',
      gpc(binaryGpc({ L_: { f64: [0, 0, 0.5, 1], shape: [2, 2] } })),
      /_BinaryGaussianProcessClassifierLaplace L_ is not a Cholesky factor/,
    ],
    [
      'GaussianProcessClassifier member of another class',
      gpc(obj('sklearn.linear_model._ridge.Ridge', {})),
      /GaussianProcessClassifier member Ridge is not a _BinaryGaussianProcessClassifierLaplace/,
    ],
    [
      'RadiusNeighborsClassifier._y outside classes_',
      obj('sklearn.neighbors._classification.RadiusNeighborsClassifier', {
        n_features_in_: 1,
        _fit_X: { f64: [0, 1], shape: [2, 1] },
        radius: 1.0,
        classes_: { f64: [0, 1] },
        _y: { f64: [0, 7] },
        outlier_label_: null,
        outputs_2d_: false,
      }),
      /RadiusNeighborsClassifier _y holds 7, not a class index below 2/,
    ],
  ];
  it.each(hostile)('%s is refused with a message naming it', (_what, value, message) => {
    expect(() => convertSklearnBytes(pickle(value))).toThrow(message);
  });

  it('a search whose best_estimator_ is a function of the training script is refused by name', () => {
    const bytes = pickle(
      obj('sklearn.model_selection._search.GridSearchCV', {
        refit: true,
        best_estimator_: { global: '__main__.evil' },
      }),
    );
    expect(() => convertSklearnBytes(bytes)).toThrow(UnsafePickleError);
    expect(() => convertSklearnBytes(bytes)).toThrow(/__main__\.evil/);
  });

  it('a search whose best_estimator_ is the search itself is refused (no endless unwrapping)', () => {
    // GridSearchCV() with state {refit: True, best_estimator_: <memo 0, the search>}
    const head = [
      0x80,
      2,
      0x63,
      ...Buffer.from('sklearn.model_selection._search\nGridSearchCV\n'),
      0x29,
      0x81,
      0x71,
      0,
    ];
    const state = [0x7d, 0x28, 0x58, 5, 0, 0, 0, ...Buffer.from('refit'), 0x88];
    const self = [0x58, 15, 0, 0, 0, ...Buffer.from('best_estimator_'), 0x68, 0];
    const bytes = Uint8Array.from([...head, ...state, ...self, 0x75, 0x62, 0x2e]);
    expect(() => convertSklearnBytes(bytes)).toThrow(/GridSearchCV\.best_estimator_ refers back to the search/);
  });
});
