import { readFileSync } from 'node:fs';
import { RequestTooLarge } from '@servekit/core';
import { describe, expect, it } from 'vitest';
import { convertSklearnBytes, UnsafePickleError } from '../src/index.js';
import { PickleFormatError } from '../src/pickle/errors.js';
import { readJoblibBytes } from '../src/pickle/joblib.js';
import { localFixture } from './helpers.js';
import { encode, expectRefusedState, obj, type Py, pickle, renamedPickle } from './pickle-builder.js';

const file = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`transformers/${name}.joblib`)));

/** The fixture's pickle with every `from` replaced by `to` (same length). */
const renamed = (name: string, from: string, to: string): Uint8Array => renamedPickle(file(name), from, to);

describe('the new transformer families keep the allow-list rule', () => {
  // one real fixture per family; the module renamed outside the list must be refused before anything is built
  const families: [string, string, string][] = [
    ['kernel_pca_rbf', 'sklearn.decomposition', 'sklearx.decomposition'],
    ['nmf_cd_l1_l2_capped', 'sklearn.decomposition', 'sklearx.decomposition'],
    ['fast_ica_unit_variance', 'sklearn.decomposition', 'sklearx.decomposition'],
    ['sparse_random_projection', 'sklearn.random_projection', 'sklearx.random_projection'],
    ['sparse_random_projection', 'scipy.sparse', 'scipz.sparse'],
    ['quantile_normal', 'sklearn.preprocessing', 'sklearx.preprocessing'],
    ['spline_periodic', 'sklearn.preprocessing', 'sklearx.preprocessing'],
    ['spline_periodic', 'scipy.interpolate', 'scipz.interpolate'],
    ['label_binarizer_strings', 'sklearn.preprocessing', 'sklearx.preprocessing'],
    ['knn_imputer_uniform', 'sklearn.impute', 'sklearx.impute'],
    ['hashing_vectorizer', 'sklearn.feature_extraction', 'sklearx.feature_extraction'],
  ];
  it.each(families)('%s: %s renamed %s is refused', (name, from, to) => {
    expect(() => readJoblibBytes(file(name))).not.toThrow();
    const bytes = renamed(name, from, to);
    expect(() => readJoblibBytes(bytes)).toThrow(UnsafePickleError);
    expect(() => readJoblibBytes(bytes)).toThrow(new RegExp(to.replace('.', '\\.')));
  });

  it('a HashingVectorizer whose tokenizer is a function of the training script is refused by name', () => {
    const bytes = pickle(
      obj('sklearn.feature_extraction.text.HashingVectorizer', {
        tokenizer: { global: '__main__.my_tokenizer' },
        n_features: 16,
      }),
    );
    expect(() => convertSklearnBytes(bytes)).toThrow(UnsafePickleError);
    expect(() => convertSklearnBytes(bytes)).toThrow(/__main__\.my_tokenizer/);
  });

  it('a BSpline the pickle tries to call with arguments stays an inert record; the converter refuses its state', () => {
    // SplineTransformer.bsplines_ = [BSpline('t', 'c', 3)]: REDUCE on BSpline is never run
    const bspline = [
      0x63,
      ...Buffer.from('scipy.interpolate._bsplines\nBSpline\n'),
      0x28,
      ...encode('t'),
      ...encode('c'),
      ...encode(3),
      0x74,
      0x52,
    ];
    const head = encode(
      obj('sklearn.preprocessing._polynomial.SplineTransformer', { extrapolation: 'constant', n_features_in_: 1 }),
    );
    // splice `bsplines_: [<reduced BSpline>]` into the state dict before its SETITEMS/BUILD
    const tail = head.splice(head.length - 2, 2);
    const bytes = Uint8Array.from([
      0x80,
      2,
      ...head,
      ...encode('bsplines_'),
      0x5d,
      0x28,
      ...bspline,
      0x65,
      ...tail,
      0x2e,
    ]);
    expect(() => convertSklearnBytes(bytes)).toThrow(/bsplines_\[0\]|BSpline/);
    expect(() => convertSklearnBytes(bytes)).not.toThrow(UnsafePickleError);
  });
});

describe('hostile state in the new classes is refused with a message naming it', () => {
  const cases: [string, Py, RegExp][] = [
    [
      'KernelPCA with a callable kernel',
      obj('sklearn.decomposition._kernel_pca.KernelPCA', {
        kernel: { global: 'sklearn.metrics.pairwise.laplacian_kernel' },
        X_fit_: [1, 2],
        n_features_in_: 2,
      }),
      /KernelPCA with kernel=a callable is not supported/,
    ],
    [
      'KernelPCA whose X_fit_ is a string',
      obj('sklearn.decomposition._kernel_pca.KernelPCA', { kernel: 'rbf', X_fit_: 'rm -rf /', n_features_in_: 2 }),
      /KernelPCA\.X_fit_ is not an array/,
    ],
    [
      'NMF whose components_ is a string',
      obj('sklearn.decomposition._nmf.NMF', { solver: 'cd', components_: 'x', n_features_in_: 2 }),
      /NMF\.components_ is not an array/,
    ],
    [
      'NMF with shuffle=True',
      obj('sklearn.decomposition._nmf.NMF', { solver: 'cd', shuffle: true, n_features_in_: 2 }),
      /NMF\(shuffle=True\) is not supported/,
    ],
    [
      'FastICA without components_',
      obj('sklearn.decomposition._fastica.FastICA', { whiten: 'unit-variance', n_features_in_: 2 }),
      /FastICA is missing its fitted attribute 'components_'/,
    ],
    [
      'SparseRandomProjection whose csr indices point outside the matrix',
      obj('sklearn.random_projection.SparseRandomProjection', {
        n_features_in_: 2,
        components_: obj('scipy.sparse._csr.csr_matrix', {
          _shape: [1, 2],
          data: [{ float: 1.5 }],
          indices: [99],
          indptr: [0, 1],
        }),
      }),
      /not a well-formed csr_matrix/,
    ],
    [
      'SparseRandomProjection whose components_ is a dict',
      obj('sklearn.random_projection.SparseRandomProjection', { n_features_in_: 2, components_: 'x' }),
      /components_ must be an array or a csr_matrix/,
    ],
    [
      "QuantileTransformer(output_distribution='lognormal')",
      obj('sklearn.preprocessing._data.QuantileTransformer', {
        output_distribution: 'lognormal',
        quantiles_: [1, 2],
        n_features_in_: 1,
      }),
      /output_distribution='lognormal'\) is not supported/,
    ],
    [
      'SplineTransformer with an unknown extrapolation',
      obj('sklearn.preprocessing._polynomial.SplineTransformer', {
        extrapolation: 'wrap',
        bsplines_: [],
        n_features_in_: 1,
      }),
      /extrapolation='wrap'\) is not supported/,
    ],
    [
      'SplineTransformer whose spline is not a BSpline',
      obj('sklearn.preprocessing._polynomial.SplineTransformer', {
        extrapolation: 'constant',
        bsplines_: [obj('sklearn.preprocessing._data.StandardScaler', {})],
        n_features_in_: 1,
      }),
      /bsplines_\[0\] is not a scipy BSpline/,
    ],
    [
      'LabelBinarizer fitted on multilabel targets',
      obj('sklearn.preprocessing._label.LabelBinarizer', { y_type_: 'multilabel-indicator', classes_: [0, 1, 2] }),
      /LabelBinarizer fitted on 'multilabel-indicator' targets is not supported/,
    ],
    [
      'KNNImputer with a callable metric',
      obj('sklearn.impute._knn.KNNImputer', {
        metric: { global: 'sklearn.metrics.pairwise.manhattan_distances' },
        weights: 'uniform',
        n_features_in_: 2,
      }),
      /KNNImputer with metric=a callable is not supported/,
    ],
    [
      'KNNImputer with callable weights',
      obj('sklearn.impute._knn.KNNImputer', {
        metric: 'nan_euclidean',
        weights: { global: 'sklearn.x.y' },
        n_features_in_: 2,
      }),
      /KNNImputer with weights=a callable is not supported/,
    ],
    [
      'HashingVectorizer with dtype float32',
      obj('sklearn.feature_extraction.text.HashingVectorizer', { n_features: 16, dtype: { global: 'numpy.float32' } }),
      /HashingVectorizer with dtype=float32 is not supported/,
    ],
    [
      'HashingVectorizer with n_features 0',
      obj('sklearn.feature_extraction.text.HashingVectorizer', { n_features: 0 }),
      /n_features=0 is not a positive integer/,
    ],
  ];
  it.each(cases)('%s', (_what, value, message) => {
    expectRefusedState(value, message);
  });
});

describe('options refused on purpose, with the reason', () => {
  it('NMF: the default max_iter=200, solver mu and MiniBatchNMF are served (ONNX Loops; nmf-multiplicative.test.ts)', () => {
    expect(convertSklearnBytes(file('refused_nmf_cd_max_iter_200')).methods.transform).toBeDefined();
    expect(convertSklearnBytes(file('refused_nmf_mu')).methods.transform).toBeDefined();
    expect(convertSklearnBytes(file('refused_minibatch_nmf')).methods.transform).toBeDefined();
  });
  it('TargetEncoder without its fitted state: refused, naming the missing attribute', () => {
    const run = (): unknown =>
      convertSklearnBytes(pickle(obj('sklearn.preprocessing._target_encoder.TargetEncoder', { n_features_in_: 1 })));
    expect(run).toThrow(PickleFormatError);
    expect(run).toThrow(/TargetEncoder is missing its fitted attribute '/);
  });
  it("HashingVectorizer: analyzer='char' is served (hashing-char-feature-hasher.test.ts); stop_words='english' is not", () => {
    expect(convertSklearnBytes(file('refused_hashing_vectorizer_char')).methods.transform).toBeDefined();
    expect(() => convertSklearnBytes(file('refused_hashing_vectorizer_english'))).toThrow(
      /HashingVectorizer with stop_words='english' is not supported/,
    );
  });
  it("SplineTransformer(extrapolation='linear', degree=1) on two features (scikit-learn 1.2's output is a bug)", () => {
    expect(() => convertSklearnBytes(file('refused_spline_linear_degree1_two_features'))).toThrow(
      /degree <= 1 and more than one feature is not supported/,
    );
  });
  it('a HashingVectorizer batch whose dense matrix would pass the decoded-bytes budget is a 413, not an allocation', () => {
    const model = convertSklearnBytes(
      pickle(obj('sklearn.feature_extraction.text.HashingVectorizer', { n_features: 2 ** 26, norm: null })),
    );
    expect(() => model.encoder.encodeInstances(['a b c', 'd e f'])).toThrow(RequestTooLarge);
  });
});
