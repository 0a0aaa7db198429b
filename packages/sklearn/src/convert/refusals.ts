/** Why some scikit-learn estimators are refused on purpose: the reason is added to the "not supported" error. */
/** Class name → reason. */
const REASONS: Record<string, string> = {};

/** ": <reason>" for an estimator refused on purpose, else ''. */
export function refusalReason(name: string): string {
  const why = REASONS[name];
  return why ? ` (${why})` : '';
}
