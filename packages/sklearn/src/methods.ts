/**
 * The scikit-learn methods a converted model can answer, in a module of its own (no imports): the CLI's flag table
 * reads it at start-up (`@servekit/sklearn/methods`) without loading the converter.
 * (`predict_std`: GaussianProcessRegressor's predict(X, return_std=True).)
 */
export const SKLEARN_METHODS = [
  'predict',
  'predict_proba',
  'decision_function',
  'transform',
  'score_samples',
  'predict_std',
  'kneighbors',
] as const;

/** One scikit-learn method name. */
export type SklearnMethod = (typeof SKLEARN_METHODS)[number];
