// scikit-learn >= 1.6's FrozenEstimator is served as the estimator it wraps (real 1.9.0 files from
// gen_debian_sweep.py's forky run; their outputs are checked in debian-sweeps.test.ts). Broken wrappers are refused.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertEstimator } from '../src/convert/model.js';
import { PickleFormatError } from '../src/index.js';
import { readJoblibBytes } from '../src/pickle/joblib.js';
import type { PyDict, PyObject } from '../src/pickle/py-types.js';
import { localFixture } from './helpers.js';

const load = (name: string): PyObject =>
  readJoblibBytes(new Uint8Array(readFileSync(localFixture(`forky/${name}.joblib`)))) as PyObject;

describe('FrozenEstimator (scikit-learn >= 1.6)', () => {
  it('alone: converts as the LogisticRegression it wraps', () => {
    const root = load('frozen_logreg');
    expect(root.name).toBe('FrozenEstimator');
    const graph = convertEstimator(root);
    expect(graph.estimator).toBe('LogisticRegression');
    expect(Object.keys(graph.methods).sort()).toEqual(['decision_function', 'predict', 'predict_proba']);
  });
  it('inside CalibratedClassifierCV (the cv="prefit" replacement): converts', () => {
    const graph = convertEstimator(load('calibrated_frozen_logreg'));
    expect(graph.estimator).toBe('CalibratedClassifierCV');
    expect(Object.keys(graph.methods).sort()).toEqual(['predict', 'predict_proba']);
  });
  it('a FrozenEstimator without an estimator is refused by name', () => {
    const root = load('frozen_logreg');
    (root.state as PyDict).delete('estimator');
    expect(() => convertEstimator(root)).toThrow(PickleFormatError);
    expect(() => convertEstimator(root)).toThrow(/FrozenEstimator has no fitted estimator to delegate to/);
  });
  it('a FrozenEstimator that wraps itself is refused, not looped on', () => {
    const root = load('frozen_logreg');
    (root.state as PyDict).set('estimator', root);
    expect(() => convertEstimator(root)).toThrow(/FrozenEstimator wraps itself/);
  });
  it('two FrozenEstimators wrapping each other inside a calibrated model are refused', () => {
    const root = load('calibrated_frozen_logreg');
    const a = (root.state as PyDict).get('estimator') as PyObject;
    expect(a.name).toBe('FrozenEstimator');
    const b: PyObject = { ...a, state: new Map([['estimator', a]]) };
    (a.state as PyDict).set('estimator', b);
    expect(() => convertEstimator(root)).toThrow(/FrozenEstimator wraps itself/);
  });
});
