import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertSklearnBytes, UnsafePickleError, UnsupportedEstimatorError } from '../src/index.js';
import { decompressJoblib, readJoblibBytes } from '../src/pickle/joblib.js';
import { localFixture } from './helpers.js';

const file = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`families/${name}.joblib`)));

/** Assemble a pickle from opcode bytes and strings. */
function pickle(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else out.push(...Buffer.from(p, 'utf8'));
  }
  return Uint8Array.from(out);
}
const binUnicode = (s: string): string => String.fromCharCode(0x58, s.length, 0, 0, 0) + s;

/** The file with the module of every `sklearn.<family>` global renamed to an unlisted `sklearx.<family>` (same length). */
function renamed(name: string, family: string): Uint8Array {
  const raw = Buffer.from(decompressJoblib(file(name)));
  const from = Buffer.from(`sklearn.${family}`);
  const to = Buffer.from(`sklearx.${family}`);
  let at = raw.indexOf(from);
  expect(at, `${name} names sklearn.${family}`).toBeGreaterThanOrEqual(0);
  while (at >= 0) {
    to.copy(raw, at);
    at = raw.indexOf(from, at + 1);
  }
  return new Uint8Array(raw);
}

describe('new estimator families keep the allow-list rule', () => {
  // one real fixture per family; its classes renamed outside sklearn.* must be refused before anything is built
  const families: [string, string][] = [
    ['pca_whiten', 'decomposition'],
    ['kbins_onehot_dense_uniform', 'preprocessing'],
    ['missing_indicator', 'impute'],
    ['select_from_forest', 'feature_selection'],
    ['gaussian_nb', 'naive_bayes'],
    ['qda', 'discriminant_analysis'],
    ['kmeans', 'cluster'],
    ['isolation_forest', 'ensemble'],
    ['gaussian_mixture_full', 'mixture'],
    ['pls_regression', 'cross_decomposition'],
    ['one_vs_rest_nb', 'multiclass'],
    ['calibrated_isotonic_nb_binary', 'calibration'],
    ['transformed_target_log1p', 'compose'],
  ];
  it.each(families)('%s: a class outside the list (sklearx.%s.*) is refused', (name, family) => {
    expect(() => readJoblibBytes(file(name))).not.toThrow();
    expect(() => readJoblibBytes(renamed(name, family))).toThrow(UnsafePickleError);
    expect(() => readJoblibBytes(renamed(name, family))).toThrow(new RegExp(`sklearx\\.${family}`));
  });
});

describe('FunctionTransformer takes numpy ufuncs by name only', () => {
  it('refuses a function defined in the training script (__main__.double_it)', () => {
    expect(() => readJoblibBytes(file('refused_function_custom'))).toThrow(UnsafePickleError);
    expect(() => readJoblibBytes(file('refused_function_custom'))).toThrow(/__main__\.double_it/);
  });
  it('refuses functools.partial wrapping an allowed ufunc', () => {
    expect(() => readJoblibBytes(file('refused_function_partial'))).toThrow(/functools\.partial/);
  });
  it('refuses a ufunc outside the list (numpy add)', () => {
    expect(() => readJoblibBytes(file('refused_function_np_add'))).toThrow(/_multiarray_umath\.add/);
  });
  it('an allowed ufunc that the pickle tries to call stays an inert record, and the converter refuses it', () => {
    // FunctionTransformer() with state {func: numpy.log1p('x'), n_features_in_: 2}: REDUCE on log1p is never run
    const bytes = pickle(
      0x80,
      2,
      'csklearn.preprocessing._function_transformer\nFunctionTransformer\n',
      0x29,
      0x81,
      0x7d,
      binUnicode('func'),
      'cnumpy\nlog1p\n',
      binUnicode('x'),
      0x85,
      0x52,
      0x73,
      binUnicode('n_features_in_'),
      0x4b,
      2,
      0x73,
      0x62,
      0x2e,
    );
    const run = (): unknown => convertSklearnBytes(bytes);
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(/FunctionTransformer\(func=numpy\.log1p\) is not supported: only numpy log1p/);
  });
});

describe('options that are refused with a message', () => {
  it("QuantileTransformer(output_distribution='normal') is served now (families-transformers.test.ts checks values)", () => {
    expect(convertSklearnBytes(file('refused_quantile_normal')).methods.transform).toBeDefined();
  });
  it("CountVectorizer(analyzer='char') and token_pattern '\\S+' are served now (hashing-char-feature-hasher.test.ts)", () => {
    expect(convertSklearnBytes(file('refused_count_vectorizer_char')).methods.transform).toBeDefined();
    expect(convertSklearnBytes(file('refused_count_vectorizer_token_pattern')).methods.transform).toBeDefined();
  });
});

describe('the models-more families keep the allow-list rule', () => {
  const more = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`models-more/${name}.joblib`)));
  /** `more(name)` with every `sklearn.<family>` module renamed to an unlisted `sklearx.<family>` (same length). */
  function renamedMore(name: string, family: string): Uint8Array {
    const raw = Buffer.from(decompressJoblib(more(name)));
    const from = Buffer.from(`sklearn.${family}`);
    let at = raw.indexOf(from);
    expect(at, `${name} names sklearn.${family}`).toBeGreaterThanOrEqual(0);
    while (at >= 0) {
      Buffer.from(`sklearx.${family}`).copy(raw, at);
      at = raw.indexOf(from, at + 1);
    }
    return new Uint8Array(raw);
  }
  const families: [string, string][] = [
    ['radius_clf_most_frequent', 'neighbors._classification'],
    ['radius_clf_most_frequent', 'neighbors._kd_tree'],
    ['radius_clf_strings_manhattan', 'neighbors._ball_tree'],
    ['lof_novelty', 'neighbors._lof'],
    ['nca_transform', 'neighbors._nca'],
    ['one_class_svm_rbf', 'svm'],
    ['gpr_const_rbf_white_normalize', 'gaussian_process._gpr'],
    ['gpr_const_rbf_white_normalize', 'gaussian_process.kernels'],
    ['categorical_nb', 'naive_bayes'],
    ['multi_output_classifier', 'multioutput'],
    ['bayesian_mixture_full', 'mixture'],
    ['kernel_centerer', 'preprocessing'],
  ];
  it.each(families)('%s: a class outside the list (sklearx.%s.*) is refused', (name, family) => {
    expect(() => readJoblibBytes(more(name))).not.toThrow();
    const bytes = renamedMore(name, family);
    expect(() => readJoblibBytes(bytes)).toThrow(UnsafePickleError);
    expect(() => readJoblibBytes(bytes)).toThrow(new RegExp(`sklearx\\.${family.replace('.', '\\.')}`));
  });
});
