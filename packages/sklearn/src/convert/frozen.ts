/**
 * scikit-learn >= 1.6's FrozenEstimator (sklearn.frozen) only delegates to the fitted `estimator` it wraps (for
 * example `CalibratedClassifierCV(FrozenEstimator(clf))`, which replaced `cv='prefit'`): before conversion every one
 * is replaced by what it wraps, wherever it sits in the unpickled tree.
 */
import { PickleFormatError } from '../pickle/errors.js';
import { isNdArray, isPyObject, type PyObject, type PyValue } from '../pickle/py-types.js';

const isFrozen = (v: PyValue): v is PyObject =>
  isPyObject(v) && v.name === 'FrozenEstimator' && v.module.startsWith('sklearn.frozen');

/** The estimator a chain of FrozenEstimators wraps (`v` itself when it is not one). */
function thaw(v: PyValue): PyValue {
  const chain = new Set<PyObject>();
  let cur = v;
  while (isFrozen(cur)) {
    if (chain.has(cur)) throw new PickleFormatError('FrozenEstimator wraps itself');
    chain.add(cur);
    const state = cur.state;
    const inner = state instanceof Map ? state.get('estimator') : undefined;
    if (!isPyObject(inner)) throw new PickleFormatError('FrozenEstimator has no fitted estimator to delegate to');
    cur = inner;
  }
  return cur;
}

/** `root` with every FrozenEstimator replaced by the estimator it wraps (in place, iteratively: no deep recursion). */
export function unfreeze(root: PyValue): PyValue {
  const top = thaw(root);
  const seen = new Set<object>();
  const stack: PyValue[] = [top];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        v[i] = thaw(v[i]!);
        stack.push(v[i]!);
      }
    } else if (v instanceof Map) {
      for (const [k, x] of v) {
        const t = thaw(x);
        if (t !== x) v.set(k, t);
        stack.push(t);
      }
    } else if (isPyObject(v)) {
      v.state = thaw(v.state);
      stack.push(v.state, v.args);
      if (v.listItems) stack.push(v.listItems);
      if (v.dictItems) stack.push(v.dictItems);
    } else if (isNdArray(v) && Array.isArray(v.data)) {
      stack.push(v.data);
    }
  }
  return top;
}
