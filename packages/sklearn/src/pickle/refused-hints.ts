/** Why well-known refused globals turn up in real scikit-learn files, appended to the refusal message. */

const HINTS = new Map<string, string>([
  [
    'functools.partial',
    'a partially applied function: FunctionTransformer(func=functools.partial(...)), or the ColumnTransformer that ' +
      "scikit-learn >= 1.4's HistGradientBoosting keeps in _preprocessor for categorical_features (categorical " +
      'splits are not supported)',
  ],
]);

/** ` (why it is there)` for a refused global servekit knows, else ''. */
export function refusedGlobalHint(global: string): string {
  const hint = HINTS.get(global);
  return hint ? ` (${hint})` : '';
}
