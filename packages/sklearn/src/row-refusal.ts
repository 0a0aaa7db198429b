/** Requests with rows scikit-learn would raise for (RadiusNeighborsClassifier(outlier_label=None)): a 400 naming them. */
import { type InferTensor, InvalidInput } from '@servekit/core';

/** At most this many row indices are listed in the message. */
const LISTED_ROWS = 20;

/** Throw InvalidInput naming the rows flagged (≠ 0) in `flags`; returns when none is. */
export function refuseFlaggedRows(model: string, flags: InferTensor, reason: string): void {
  const data = flags.data as ArrayLike<number>;
  const rows: number[] = [];
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) rows.push(i);
  if (rows.length === 0) return;
  const listed = rows.slice(0, LISTED_ROWS).join(', ');
  const more = rows.length > LISTED_ROWS ? ` and ${rows.length - LISTED_ROWS} more` : '';
  const noun = rows.length === 1 ? 'row' : 'rows';
  throw new InvalidInput(`model ${model}: ${noun} ${listed}${more} (0-based) ${reason}`);
}
