import { InvalidInput } from '@servekit/core';
import type { ConvertedModel } from './load.js';

/**
 * Replaces category names in V1 rows by the codes the converted graph takes (the name's position in the model's
 * category list). An unknown name becomes null (missing), as pandas makes an unseen category before LightGBM and
 * as CatBoost matches no one-hot split for it, unless the model says `unknownCategory: 'error'` (XGBoost ≥ 3.1
 * raises for a category not in the training set): then it is a 400. Numbers pass unchanged: they are codes already.
 */
export function encodeCategoryNames(rows: unknown[][], model: ConvertedModel): unknown[][] {
  const cats = new Set(model.categoricalColumns ?? []);
  const lookups = new Map<number, Map<string, number>>();
  const lookup = (col: number): Map<string, number> | undefined => {
    const names = model.categoryNames?.[col];
    if (!names) return undefined;
    let m = lookups.get(col);
    if (!m) {
      m = new Map(names.map((n, code) => [n, code] as const));
      lookups.set(col, m);
    }
    return m;
  };
  const feature = (col: number): string => {
    const name = model.featureNames?.[col];
    return name ? `feature "${name}" (column ${col})` : `column ${col}`;
  };
  return rows.map((row, i) => {
    if (!row.some((v) => typeof v === 'string')) return row;
    return row.map((v, col) => {
      if (typeof v !== 'string') return v;
      if (!cats.has(col))
        throw new InvalidInput(`instances[${i}][${col}] is a string, but ${feature(col)} is numeric.`);
      const codes = lookup(col);
      if (!codes) {
        throw new InvalidInput(
          `instances[${i}][${col}] is a string, but the model records no category names for ${feature(col)}: send its category code (a number).`,
        );
      }
      const code = codes.get(v);
      if (code === undefined && model.unknownCategory === 'error') {
        throw new InvalidInput(
          `instances[${i}][${col}] is ${JSON.stringify(v)}, a category not in the training set for ${feature(col)} (XGBoost refuses it; send null for a missing value).`,
        );
      }
      return code ?? null;
    });
  });
}
