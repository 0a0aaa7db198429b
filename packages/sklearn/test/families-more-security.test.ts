import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  convertSklearnBytes,
  supportedEstimators,
  UnsafePickleError,
  UnsupportedEstimatorError,
} from '../src/index.js';
import { PickleFormatError } from '../src/pickle/errors.js';
import { readJoblibBytes } from '../src/pickle/joblib.js';
import { localFixture } from './helpers.js';
import { expectRefusedState, obj, type Py, renamedPickle } from './pickle-builder.js';

const file = (rel: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`${rel}.joblib`)));

describe('kneighbors, neighbours graphs, RandomTreesEmbedding, hashing and NMF mu keep the allow-list rule', () => {
  it('lists the six new class names as supported', () => {
    const names = supportedEstimators();
    for (const n of [
      'NearestNeighbors',
      'KNeighborsTransformer',
      'RadiusNeighborsTransformer',
      'RandomTreesEmbedding',
      'MiniBatchNMF',
      'FeatureHasher',
    ])
      expect(names).toContain(n);
  });

  // one real fixture per family; its module renamed off the list is refused before anything is built
  const families: [string, string, string][] = [
    ['neighbors/nearest_neighbors_kd_tree', 'sklearn.neighbors', 'sklearx.neighbors'],
    ['neighbors/kneighbors_transformer_distance', 'sklearn.neighbors', 'sklearx.neighbors'],
    ['neighbors/radius_neighbors_transformer_distance', 'sklearn.neighbors', 'sklearx.neighbors'],
    ['trees-embedding/random_trees_embedding', 'sklearn.ensemble', 'sklearx.ensemble'],
    ['trees-embedding/random_trees_embedding', 'sklearn.tree', 'sklearx.tree'],
    ['nmf-mu/nmf_mu_kl_l1_l2', 'sklearn.decomposition', 'sklearx.decomposition'],
    ['hashing/feature_hasher_dict', 'sklearn.feature_extraction', 'sklearx.feature_extraction'],
    ['hashing/hashing_char_wb_2_4_l1_no_sign', 'sklearn.feature_extraction', 'sklearx.feature_extraction'],
    ['nmf-mu/minibatch_nmf_frobenius', 'sklearn.decomposition', 'sklearx.decomposition'],
  ];
  it.each(families)('%s: %s renamed %s is refused', (name, from, to) => {
    expect(() => readJoblibBytes(file(name))).not.toThrow();
    const bytes = renamedPickle(file(name), from, to);
    expect(() => readJoblibBytes(bytes)).toThrow(UnsafePickleError);
    expect(() => readJoblibBytes(bytes)).toThrow(new RegExp(to.replace('.', '\\.')));
  });
});

describe('hostile state in the new classes is refused with a message naming the class and attribute', () => {
  const nn = 'sklearn.neighbors._unsupervised.NearestNeighbors';
  const cases: [string, Py, RegExp][] = [
    [
      'FeatureHasher with an unknown input_type',
      obj('sklearn.feature_extraction._hash.FeatureHasher', { input_type: 'bytes', n_features: 8 }),
      /FeatureHasher input_type="bytes" is not supported/,
    ],
    [
      'FeatureHasher whose n_features is a string',
      obj('sklearn.feature_extraction._hash.FeatureHasher', { input_type: 'dict', n_features: 'many' }),
      /FeatureHasher\.n_features is not a number/,
    ],
    [
      'HashingVectorizer whose token_pattern is a list',
      obj('sklearn.feature_extraction.text.HashingVectorizer', { token_pattern: ['\\w+'], n_features: 8 }),
      /HashingVectorizer with a token_pattern that is not a string is not supported/,
    ],
    [
      'HashingVectorizer with an ngram_range of strings',
      obj('sklearn.feature_extraction.text.HashingVectorizer', {
        analyzer: 'char',
        ngram_range: ['a', 'b'],
        n_features: 8,
      }),
      /HashingVectorizer with ngram_range=\(NaN, NaN\) is not supported/,
    ],
    [
      'MiniBatchNMF whose components_ is a string',
      obj('sklearn.decomposition._nmf.MiniBatchNMF', { components_: 'x', n_features_in_: 2 }),
      /MiniBatchNMF\.components_ is not an array/,
    ],
    [
      "NMF(solver='mu') whose beta_loss is a list",
      obj('sklearn.decomposition._nmf.NMF', { solver: 'mu', _beta_loss: [1, 2], n_features_in_: 2 }),
      /NMF with beta_loss=\[1,2\] is not supported/,
    ],
    [
      'RandomTreesEmbedding whose one_hot_encoder_ is a string',
      obj('sklearn.ensemble._forest.RandomTreesEmbedding', {
        estimators_: [obj('sklearn.tree._classes.ExtraTreeRegressor', {})],
        one_hot_encoder_: 'x',
        n_features_in_: 1,
      }),
      /RandomTreesEmbedding\.one_hot_encoder_ is not an estimator object/,
    ],
    [
      'NearestNeighbors whose _fit_X is a string',
      obj(nn, { _fit_X: 'rm -rf /', n_features_in_: 1 }),
      /NearestNeighbors\._fit_X is not an array/,
    ],
    [
      'NearestNeighbors with a callable metric',
      obj(nn, { effective_metric_: { global: 'sklearn.metrics.pairwise.manhattan_distances' }, n_features_in_: 1 }),
      /NearestNeighbors with metric=a callable is not supported/,
    ],
  ];
  it.each(cases)('%s', (_what, value, message) => {
    expectRefusedState(value, message);
  });

  it('a fitted RandomTreesEmbedding whose encoder names a node that is not a leaf', () => {
    const run = (): unknown => convertSklearnBytes(file('trees-embedding/refused_categories_not_leaves'));
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(/RandomTreesEmbedding\.one_hot_encoder_\.categories_\[1\] names 0, not a leaf of tree 1/);
  });

  it('a fitted RadiusNeighborsTransformer whose radius was set to a string', () => {
    const run = (): unknown => convertSklearnBytes(file('neighbors/refused_radius_string'));
    expect(run).toThrow(PickleFormatError);
    expect(run).toThrow(/RadiusNeighborsTransformer\.radius is not a number/);
  });

  it('a fitted KNeighborsTransformer whose mode was set to an unknown one', () => {
    const run = (): unknown => convertSklearnBytes(file('neighbors/refused_mode_both'));
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(/KNeighborsTransformer\(mode='both'\) is not supported/);
  });

  it('a fitted NearestNeighbors asking for more neighbours than it has training rows', () => {
    const run = (): unknown => convertSklearnBytes(file('neighbors/refused_more_neighbors_than_rows'));
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(/NearestNeighbors asks for 99 neighbours of a training set of 5 rows/);
  });
});
