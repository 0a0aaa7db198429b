/** Why some scikit-learn estimators are refused on purpose: the reason is added to the "not supported" error. */
/** Class name → reason. */
const REASONS: Record<string, string> = {
  MiniBatchNMF:
    'its transform runs multiplicative updates from the mean of the whole batch, so a row depends on the rows sent with it',
};

/** ": <reason>" for an estimator refused on purpose, else ''. */
export function refusalReason(name: string): string {
  const why = REASONS[name];
  return why ? ` (${why})` : '';
}
