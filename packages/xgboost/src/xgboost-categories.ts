/**
 * The category names XGBoost ≥ 3.1 records in a model trained on a DataFrame with categorical columns
 * (`gradient_booster.model.cats`, written by `CatContainer::Save`): one entry per feature in `enc`, either a string
 * column `{offsets, values}` (Arrow layout: UTF-8 bytes as int8, offsets into them) or a numeric column
 * `{type, values}`. Numeric features are empty string columns. A category's code (what the trees test) is its
 * position in the column's list. XGBoost 1.7–3.0 write no `cats`: their models take codes only.
 */
import type { UbjValue } from './ubjson.js';

type Obj = { [key: string]: UbjValue };

const isObj = (v: UbjValue | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function ints(v: UbjValue | undefined, where: string): number[] {
  if (!Array.isArray(v)) throw new Error(`${where} is not an array`);
  return v.map((x, i) => {
    const n = typeof x === 'bigint' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new Error(`${where}[${i}] is not an integer`);
    return n;
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One `enc` string column's names, from its offsets and int8 UTF-8 bytes. */
function stringColumn(col: Obj, where: string): string[] {
  const offsets = ints(col.offsets, `${where}.offsets`);
  const bytes = Uint8Array.from(ints(col.values, `${where}.values`), (b) => b & 0xff);
  const names: string[] = [];
  for (let i = 1; i < offsets.length; i++) {
    const start = offsets[i - 1]!;
    const end = offsets[i]!;
    if (!(start >= 0 && start <= end && end <= bytes.length)) {
      throw new Error(`${where}: offsets ${start}..${end} lie outside its ${bytes.length} bytes`);
    }
    try {
      names.push(utf8.decode(bytes.subarray(start, end)));
    } catch {
      throw new Error(`${where}: category ${i - 1} is not valid UTF-8`);
    }
  }
  return names;
}

/**
 * Category names by feature index from a gbtree `model` object, or undefined when it records none (older XGBoost,
 * or numeric category values only: those stay codes).
 */
export function xgbCategoryNames(model: Obj, numFeature: number): (string[] | undefined)[] | undefined {
  const cats = model.cats;
  if (cats === undefined) return undefined;
  if (!isObj(cats)) throw new Error('gradient_booster.model.cats is not an object');
  const enc = cats.enc;
  if (!Array.isArray(enc)) throw new Error('gradient_booster.model.cats.enc is not an array');
  if (enc.length === 0) return undefined;
  if (enc.length !== numFeature) {
    throw new Error(
      `gradient_booster.model.cats.enc has ${enc.length} columns but the model has ${numFeature} features`,
    );
  }
  const names = enc.map((col, f): string[] | undefined => {
    const where = `gradient_booster.model.cats.enc[${f}]`;
    if (!isObj(col)) throw new Error(`${where} is not an object`);
    if (col.offsets === undefined) return undefined; // numeric category values: requests send codes
    const list = stringColumn(col, where);
    return list.length > 0 ? list : undefined;
  });
  return names.some((n) => n !== undefined) ? names : undefined;
}
