/** The scikit-learn version a pickle was written by (`_sklearn_version`), for fitted state whose meaning changed. */
import type { PyObject } from '../pickle/py-types.js';
import { get } from './state.js';

/** Whether `est` was pickled by scikit-learn `major.minor` or later (false when it records no version). */
export function pickledBySklearnAtLeast(est: PyObject, major: number, minor: number): boolean {
  const v = get(est, '_sklearn_version');
  if (typeof v !== 'string') return false;
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}
