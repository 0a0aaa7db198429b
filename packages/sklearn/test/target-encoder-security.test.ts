// Hostile or inconsistent TargetEncoder state: refused with a message that says what is wrong, never a crash.
// The base pickles are the real scikit-learn 1.4.2 fixtures of gen_target_encoder_trixie.py.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertEstimator } from '../src/convert/model.js';
import { convertSklearnBytes, PickleFormatError, UnsafePickleError, UnsupportedEstimatorError } from '../src/index.js';
import { decompressJoblib, readJoblibBytes } from '../src/pickle/joblib.js';
import type { NdArray, PyDict, PyObject, PyValue } from '../src/pickle/py-types.js';
import { localFixture } from './helpers.js';

const file = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`target-encoder/${name}.joblib`)));

/** The fixture with every `from` in its decompressed pickle replaced by `to` (same length). */
function renamed(name: string, from: string, to: string): Uint8Array {
  const raw = Buffer.from(decompressJoblib(file(name)));
  let at = raw.indexOf(from);
  expect(at, `${name} names ${from}`).toBeGreaterThanOrEqual(0);
  while (at >= 0) {
    Buffer.from(to).copy(raw, at);
    at = raw.indexOf(from, at + 1);
  }
  return new Uint8Array(raw);
}

/** The unpickled fixture with its attribute dict edited by `edit`, then converted. */
function convertEdited(name: string, edit: (state: PyDict) => void): () => unknown {
  const root = readJoblibBytes(file(name)) as PyObject;
  expect(root.name).toBe('TargetEncoder');
  edit(root.state as PyDict);
  return () => convertEstimator(root);
}

describe('TargetEncoder pickles: the allow-list', () => {
  it('the fixtures name sklearn.preprocessing._target_encoder.TargetEncoder and convert', () => {
    expect(convertSklearnBytes(file('te_binary_strings')).estimator).toBe('TargetEncoder');
  });
  it('the module renamed off the allow-list is refused before anything is built', () => {
    const bytes = renamed(
      'te_binary_strings',
      'sklearn.preprocessing._target_encoder',
      'sklearx.preprocessing._target_encoder',
    );
    expect(() => convertSklearnBytes(bytes)).toThrow(UnsafePickleError);
    expect(() => convertSklearnBytes(bytes)).toThrow(/sklearx\.preprocessing\._target_encoder/);
  });
  it('another class name in the same module is an unsupported estimator', () => {
    const bytes = renamed('te_binary_strings', 'TargetEncoder', 'TargetEncodeX');
    expect(() => convertSklearnBytes(bytes)).toThrow(UnsupportedEstimatorError);
  });
});

describe('TargetEncoder pickles: wrong types where arrays belong', () => {
  // the existing encoder helpers report non-array categories as UnsupportedEstimatorError, the rest PickleFormatError
  const cases: [string, string, PyValue, RegExp][] = [
    ['encodings_ a string', 'encodings_', 'abc', /TargetEncoder\.encodings_ is not a list/],
    ['encodings_ a list of strings', 'encodings_', ['a', 'b'], /TargetEncoder\.encodings_ entries must be arrays/],
    ['categories_ a list of strings', 'categories_', ['red', 'S'], /TargetEncoder\.categories_ entries must be arrays/],
    ['categories_ a string', 'categories_', 'red', /TargetEncoder\.categories_ is not a list/],
    ['target_mean_ a string', 'target_mean_', 'x', /TargetEncoder\.target_mean_ is not a number/],
    ['target_type_ a number', 'target_type_', 3, /TargetEncoder\.target_type_ is not a string/],
  ];
  it.each(cases)('%s: refused, naming the attribute', (_what, key, value, message) => {
    const run = convertEdited('te_binary_strings', (s) => s.set(key, value));
    expect(run).toThrow(key === 'categories_' && Array.isArray(value) ? UnsupportedEstimatorError : PickleFormatError);
    expect(run).toThrow(message);
  });
  it('multiclass target_mean_ a string', () => {
    const run = convertEdited('te_multiclass_strings', (s) => s.set('target_mean_', 'x'));
    expect(run).toThrow(PickleFormatError);
  });
});

describe('TargetEncoder pickles: inconsistent fitted state', () => {
  it('fewer encodings_ than features', () => {
    const run = convertEdited('te_binary_strings', (s) =>
      s.set('encodings_', (s.get('encodings_') as PyValue[]).slice(0, 1)),
    );
    expect(run).toThrow(PickleFormatError);
    expect(run).toThrow(/TargetEncoder has 1 encodings_ for 2 features × 1 columns each \(expected 2\)/);
  });
  it('multiclass: encodings_ for one class fewer than classes_', () => {
    const run = convertEdited('te_multiclass_strings', (s) =>
      s.set('encodings_', (s.get('encodings_') as PyValue[]).slice(0, 4)),
    );
    expect(run).toThrow(/TargetEncoder has 4 encodings_ for 2 features × 3 columns each \(expected 6\)/);
  });
  it('an encoding with another length than its feature categories_', () => {
    const run = convertEdited('te_binary_strings', (s) => {
      const enc = s.get('encodings_') as PyValue[];
      s.set('encodings_', [enc[1]!, enc[0]!]); // 5 values for colors' 3 categories
    });
    expect(run).toThrow(PickleFormatError);
    expect(run).toThrow(/encodings_\[0\] has 5 values for the 3 categories of feature 0/);
  });
  it('multiclass target_mean_ with another length than classes_', () => {
    const run = convertEdited('te_multiclass_strings', (s) => {
      const mean = s.get('target_mean_') as NdArray;
      s.set('target_mean_', { ...mean, data: Float64Array.of(0.5, 0.5), shape: [2] });
    });
    expect(run).toThrow(/TargetEncoder target_mean_ has 2 values for 3 classes_/);
  });
  it('n_features_in_ other than the number of categories_ arrays', () => {
    const run = convertEdited('te_binary_strings', (s) => s.set('n_features_in_', 3));
    expect(run).toThrow(/TargetEncoder has 2 categories_ arrays for n_features_in_=3/);
  });
  it('non-finite encodings_ (they would turn the one-hot product into NaN) are refused', () => {
    const run = convertEdited('te_continuous_strings', (s) => {
      const enc = s.get('encodings_') as NdArray[];
      const bad = Float64Array.from(enc[0]!.data as Float64Array);
      bad[1] = Number.POSITIVE_INFINITY;
      s.set('encodings_', [{ ...enc[0]!, data: bad }, enc[1]!]);
    });
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(/TargetEncoder with non-finite encodings_/);
  });
  it("_infrequent_enabled=True and target_type_='multilabel-indicator' are refused by name", () => {
    const infrequent = convertEdited('te_binary_strings', (s) => s.set('_infrequent_enabled', true));
    expect(infrequent).toThrow(/TargetEncoder with infrequent categories is not supported/);
    const multilabel = convertEdited('te_binary_strings', (s) => s.set('target_type_', 'multilabel-indicator'));
    expect(multilabel).toThrow(/TargetEncoder target_type_='multilabel-indicator' is not supported/);
  });
});
