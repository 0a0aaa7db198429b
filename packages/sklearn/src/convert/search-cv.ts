/**
 * Hyper-parameter searches (GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV, HalvingRandomSearchCV): served as
 * their refitted `best_estimator_`, with its methods. Their `cv_results_` (numpy masked arrays) is read but not used.
 */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isPyObject } from '../pickle/py-types.js';
import { get } from './state.js';

/** The search classes served through their best_estimator_. */
export const SEARCH_CV_CLASSES: readonly string[] = [
  'GridSearchCV',
  'RandomizedSearchCV',
  'HalvingGridSearchCV',
  'HalvingRandomSearchCV',
];

/** Whether `est` is a hyper-parameter search. */
export function isSearchCv(est: PyObject): boolean {
  return SEARCH_CV_CLASSES.includes(est.name);
}

/** The estimator a (possibly nested) search serves: its best_estimator_; anything else is returned as it is. */
export function searchBestEstimator(est: PyObject): PyObject {
  const seen = new Set<PyObject>();
  let at = est;
  while (isSearchCv(at)) {
    if (seen.has(at)) throw new UnsupportedEstimatorError(`${at.name}.best_estimator_ refers back to the search`);
    seen.add(at);
    if (get(at, 'refit') === false) {
      throw new UnsupportedEstimatorError(
        `${at.name}(refit=False) has no best_estimator_ to serve: fit the search with refit=True (or the name of the ` +
          'metric to refit on), or save an estimator fitted with its best_params_',
      );
    }
    const best = get(at, 'best_estimator_');
    if (best === undefined) throw new UnsupportedEstimatorError(`${at.name} has no best_estimator_ (is it fitted?)`);
    if (!isPyObject(best)) throw new UnsupportedEstimatorError(`${at.name}.best_estimator_ is not an estimator`);
    at = best;
  }
  return at;
}
