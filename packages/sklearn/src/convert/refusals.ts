/** Why some scikit-learn estimators are refused on purpose: the reason is added to the "not supported" error. */
const BATCH_DEPENDENT =
  "its transform is an iterative solve (coordinate descent or multiplicative updates) whose stopping test sums over the whole batch (and 'mu' starts from the batch mean), so a row's output depends on the other rows sent with it";

/** Class name → reason. */
const REASONS: Record<string, string> = {
  NMF: BATCH_DEPENDENT,
  MiniBatchNMF: BATCH_DEPENDENT,
};

/** ": <reason>" for an estimator refused on purpose, else ''. */
export function refusalReason(name: string): string {
  const why = REASONS[name];
  return why ? ` (${why})` : '';
}
