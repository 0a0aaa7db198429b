/** Scalers, Normalizer, SimpleImputer, OneHotEncoder, OrdinalEncoder and LabelEncoder, in float64 (strings where categorical). */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { NdArray, PyObject, PyValue } from '../pickle/py-types.js';
import { isNdArray } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { arr, bool, get, has, labels, list, str, toF64 } from './state.js';

/**
 * What JSON `null` becomes in STRING columns: Python's None in an object column. It matches a None/NaN
 * category of an encoder, and counts as missing only for imputers fitted with missing_values=None
 * (scikit-learn's NaN test does not match None in object columns).
 */
export const MISSING_STRING = '\u2400';

/** A string that stands for no request value (all-false mask for string columns). */
const NEVER_STRING = '\u2400\u2400';

/** Category values as graph strings (None/NaN categories → MISSING_STRING). */
function categoryStrings(values: (number | string)[]): string[] {
  return values.map((v) => (typeof v === 'number' && Number.isNaN(v) ? MISSING_STRING : String(v)));
}

const d = (ctx: ConvertContext, x: Var): Var => ctx.cast(x, 'DOUBLE');

function binop(ctx: ConvertContext, op: string, x: Var, values: Float64Array): Var {
  return { name: ctx.op(op, [x.name, ctx.constD(values, [1, values.length])]), type: 'DOUBLE', cols: x.cols };
}

/** StandardScaler: (x - mean_) / scale_. */
export function standardScaler(ctx: ConvertContext, est: PyObject, x: Var): Var {
  let y = d(ctx, x);
  if (has(est, 'mean_') && bool(est, 'with_mean', true)) y = binop(ctx, 'Sub', y, toF64(arr(est, 'mean_')));
  if (has(est, 'scale_') && bool(est, 'with_std', true)) y = binop(ctx, 'Div', y, toF64(arr(est, 'scale_')));
  return y;
}

/** MinMaxScaler: x * scale_ + min_, clipped to feature_range when clip=True. */
export function minMaxScaler(ctx: ConvertContext, est: PyObject, x: Var): Var {
  let y = binop(ctx, 'Mul', d(ctx, x), toF64(arr(est, 'scale_')));
  y = binop(ctx, 'Add', y, toF64(arr(est, 'min_')));
  if (bool(est, 'clip', false)) {
    const range = get(est, 'feature_range');
    const [lo, hi] = Array.isArray(range) ? range.map(Number) : [0, 1];
    y = { name: ctx.op('Clip', [y.name, ctx.constD([lo!], []), ctx.constD([hi!], [])]), type: 'DOUBLE', cols: y.cols };
  }
  return y;
}

/** MaxAbsScaler: x / scale_. */
export function maxAbsScaler(ctx: ConvertContext, est: PyObject, x: Var): Var {
  return binop(ctx, 'Div', d(ctx, x), toF64(arr(est, 'scale_')));
}

/** RobustScaler: (x - center_) / scale_. */
export function robustScaler(ctx: ConvertContext, est: PyObject, x: Var): Var {
  let y = d(ctx, x);
  if (has(est, 'center_')) y = binop(ctx, 'Sub', y, toF64(arr(est, 'center_')));
  if (has(est, 'scale_')) y = binop(ctx, 'Div', y, toF64(arr(est, 'scale_')));
  return y;
}

/** Normalizer: rows divided by their l1 / l2 / max norm (zero norms left as is). */
export function normalizer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const y = d(ctx, x);
  const norm = str(est, 'norm', 'l2');
  const keep = { keepdims: attr.i(1) };
  const axes = ctx.constI([1]);
  let n: string;
  if (norm === 'l2') n = ctx.op('Sqrt', [ctx.op('ReduceSumSquare', [y.name, axes], keep)]);
  else if (norm === 'l1') n = ctx.op('ReduceSum', [ctx.op('Abs', [y.name]), axes], keep);
  else if (norm === 'max') n = ctx.op('ReduceMax', [ctx.op('Abs', [y.name]), axes], keep);
  else throw new UnsupportedEstimatorError(`Normalizer norm '${norm}' is not supported`);
  const zero = ctx.op('Equal', [n, ctx.constD([0], [])]);
  const safe = ctx.op('Where', [zero, ctx.constD([1], []), n]);
  return { name: ctx.op('Div', [y.name, safe]), type: 'DOUBLE', cols: y.cols };
}

/** Mask of missing entries for an imputer's `missing_values` (NaN/None → IsNaN or '', a number → Equal). */
function missingMask(ctx: ConvertContext, est: PyObject, x: Var): string {
  const mv = get(est, 'missing_values');
  if (x.type === 'STRING') {
    if (typeof mv === 'number' && Number.isNaN(mv)) {
      // object columns: NaN never equals the None that JSON null stands for → nothing is missing
      return ctx.op('Equal', [x.name, ctx.const('STRING', [], [NEVER_STRING])]);
    }
    const marker = typeof mv === 'string' ? mv : MISSING_STRING;
    return ctx.op('Equal', [x.name, ctx.const('STRING', [], [marker])]);
  }
  if (mv === null || mv === undefined || (typeof mv === 'number' && Number.isNaN(mv))) return ctx.op('IsNaN', [x.name]);
  if (typeof mv === 'number') return ctx.op('Equal', [x.name, ctx.constD([mv], [])]);
  throw new UnsupportedEstimatorError(`SimpleImputer missing_values=${String(mv)} on numeric data is not supported`);
}

/** SimpleImputer (numeric or string columns, any strategy; add_indicator; all-missing columns dropped as sklearn does). */
export function simpleImputer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const stats = arr(est, 'statistics_');
  const strings = x.type === 'STRING';
  const xin = strings ? x : d(ctx, x);
  const mask = missingMask(ctx, est, xin);
  let filled: Var;
  if (strings) {
    const values = categoryStrings(labels(stats));
    filled = {
      name: ctx.op('Where', [mask, ctx.const('STRING', [1, values.length], values), xin.name]),
      type: 'STRING',
      cols: x.cols,
    };
  } else {
    const values = toF64(stats);
    filled = {
      name: ctx.op('Where', [mask, ctx.constD(values, [1, values.length]), xin.name]),
      type: 'DOUBLE',
      cols: x.cols,
    };
    const strategy = str(est, 'strategy', 'mean');
    if (strategy !== 'constant' && !bool(est, 'keep_empty_features', false)) {
      const keep: number[] = [];
      values.forEach((v, i) => {
        if (!Number.isNaN(v)) keep.push(i);
      });
      if (keep.length !== values.length) filled = ctx.columns(filled, keep);
    }
  }
  if (bool(est, 'add_indicator', false) && has(est, 'indicator_')) {
    const ind = get(est, 'indicator_') as PyObject;
    const feats = toF64(arr(ind, 'features_'));
    const maskVar: Var = { name: mask, type: 'INT64', cols: x.cols };
    const picked = ctx.columns(maskVar, Array.from(feats));
    const indicator: Var = {
      name: ctx.op('Cast', [picked.name], { to: attr.i(11) }),
      type: 'DOUBLE',
      cols: feats.length,
    };
    return ctx.concat([ctx.cast(filled, 'DOUBLE'), indicator]);
  }
  return filled;
}

/** [N,1] column j of x. */
function column(ctx: ConvertContext, x: Var, j: number): Var {
  return ctx.columns(x, [j]);
}

/** One-hot of one column against categories: [N, m] float64 (unknown values → all zeros). */
export function oneHotColumn(ctx: ConvertContext, col: Var, cats: NdArray): Var {
  const values = labels(cats);
  const m = values.length;
  let eq: string;
  if (col.type === 'STRING') {
    eq = ctx.op('Equal', [col.name, ctx.const('STRING', [1, m], categoryStrings(values))]);
  } else {
    if (values.some((v) => typeof v === 'string')) {
      throw new UnsupportedEstimatorError('an encoder with string categories got a numeric column');
    }
    const nums = Float64Array.from(values as number[]);
    const c = ctx.cast(col, 'DOUBLE');
    eq = ctx.op('Equal', [c.name, ctx.constD(nums, [1, m])]);
    const nanAt = Array.from(nums).findIndex((v) => Number.isNaN(v));
    if (nanAt >= 0) {
      const isNan = ctx.op('IsNaN', [c.name]);
      const onlyNan = ctx.constD(
        Float64Array.from({ length: m }, (_, i) => (i === nanAt ? 1 : 0)),
        [1, m],
      );
      const nanHit = ctx.op('Cast', [ctx.op('Mul', [ctx.op('Cast', [isNan], { to: attr.i(11) }), onlyNan])], {
        to: attr.i(9),
      });
      eq = ctx.op('Or', [eq, nanHit]);
    }
  }
  return { name: ctx.op('Cast', [eq], { to: attr.i(11) }), type: 'DOUBLE', cols: m };
}

/** An encoder's `categories_`, one array per input feature. */
export function categories(est: PyObject): NdArray[] {
  return list(est, 'categories_').map((c) => {
    if (!isNdArray(c)) throw new UnsupportedEstimatorError(`${est.name}.categories_ entries must be arrays`);
    return c;
  });
}

/** Integer entries of an array attribute (None → null), or one null per feature when it is absent / None. */
function optionalIndices(raw: PyValue | undefined, n: number): (number | null)[] {
  if (!isNdArray(raw)) return Array.from({ length: n }, () => null);
  const items: PyValue[] = Array.isArray(raw.data) ? raw.data : Array.from(raw.data as ArrayLike<number | bigint>);
  return items.map((v) => (v === null || v === undefined || Number.isNaN(Number(v)) ? null : Number(v)));
}

/**
 * OneHotEncoder, dense output. Unknown categories give all zeros (handle_unknown='ignore' semantics), or the
 * infrequent column with handle_unknown='infrequent_if_exist' or 'warn'. Infrequent categories (min_frequency /
 * max_categories) share one column, last among the feature's columns, as scikit-learn's
 * `_default_to_infrequent_mappings` groups them; `drop` is applied after grouping (`_drop_idx_after_grouping`).
 */
export function oneHotEncoder(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const cats = categories(est);
  const mappings = infrequentMappings(est, cats);
  // 'warn' (scikit-learn >= 1.6) maps unknowns as 'infrequent_if_exist' does, and warns
  const unknownToInfrequent = ['infrequent_if_exist', 'warn'].includes(str(est, 'handle_unknown', 'error'));
  const drop = optionalIndices(
    has(est, '_drop_idx_after_grouping') ? get(est, '_drop_idx_after_grouping') : get(est, 'drop_idx_'),
    cats.length,
  );
  const parts = cats.map((c, j) => {
    let oh = oneHotColumn(ctx, column(ctx, x, j), c);
    const mapping = mappings[j];
    if (mapping) oh = groupInfrequent(ctx, oh, mapping, unknownToInfrequent);
    const di = drop[j];
    if (di !== null && di !== undefined) {
      if (di < 0 || di >= oh.cols) {
        throw new UnsupportedEstimatorError(`OneHotEncoder drops column ${di} of feature ${j}, which has ${oh.cols}`);
      }
      oh = ctx.columns(
        oh,
        Array.from({ length: oh.cols }, (_, i) => i).filter((i) => i !== di),
      );
    }
    return oh;
  });
  return ctx.concat(parts);
}

/** Per feature: category index → grouped column (infrequent ones → the last), or null when nothing is grouped. */
function infrequentMappings(est: PyObject, cats: NdArray[]): (number[] | null)[] {
  if (!bool(est, '_infrequent_enabled', false)) return cats.map(() => null);
  const raw = list(est, '_default_to_infrequent_mappings');
  if (raw.length !== cats.length) {
    throw new UnsupportedEstimatorError(
      `OneHotEncoder has ${raw.length} infrequent-category mappings for ${cats.length} features`,
    );
  }
  return raw.map((m, j) => {
    if (m === null) return null;
    if (!isNdArray(m)) throw new UnsupportedEstimatorError('OneHotEncoder infrequent-category mappings must be arrays');
    const map = Array.from(toF64(m));
    const n = cats[j]!.shape[0] ?? 0;
    const top = Math.max(...map);
    if (map.length !== n || map.some((v) => !Number.isInteger(v) || v < 0 || v > top)) {
      throw new UnsupportedEstimatorError(`OneHotEncoder infrequent-category mapping of feature ${j} is inconsistent`);
    }
    return map;
  });
}

/** [N, m] one-hot over categories_ → [N, top+1] grouped columns; unknown rows → the infrequent column if asked. */
function groupInfrequent(ctx: ConvertContext, oh: Var, mapping: number[], unknownToInfrequent: boolean): Var {
  const cols = Math.max(...mapping) + 1;
  const table = new Float64Array(mapping.length * cols);
  mapping.forEach((to, i) => {
    table[i * cols + to] = 1;
  });
  let grouped = ctx.op('MatMul', [oh.name, ctx.constD(table, [mapping.length, cols])]);
  if (unknownToInfrequent) {
    const hit = ctx.op('ReduceSum', [oh.name, ctx.constI([1])], { keepdims: attr.i(1) });
    const unknown = ctx.op('Sub', [ctx.constD([1], []), hit]);
    const last = Float64Array.from({ length: cols }, (_, i) => (i === cols - 1 ? 1 : 0));
    grouped = ctx.op('Add', [grouped, ctx.op('Mul', [unknown, ctx.constD(last, [1, cols])])]);
  }
  return { name: grouped, type: 'DOUBLE', cols };
}

/** OrdinalEncoder: category index per column; unknowns → unknown_value (or NaN). */
export function ordinalEncoder(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const cats = categories(est);
  const unknownValue = get(est, 'unknown_value');
  const unknown = typeof unknownValue === 'number' ? unknownValue : Number.NaN;
  const encodedMissing = get(est, 'encoded_missing_value');
  const parts = cats.map((c, j) => {
    const oh = oneHotColumn(ctx, column(ctx, x, j), c);
    const m = oh.cols;
    const idx = Float64Array.from({ length: m }, (_, i) => i);
    const vals = labels(c);
    const nanAt = vals.findIndex((v) => typeof v === 'number' && Number.isNaN(v));
    if (nanAt >= 0) idx[nanAt] = typeof encodedMissing === 'number' ? encodedMissing : Number.NaN;
    // MatMul would turn NaN·0 into NaN for every row; select with the one-hot instead
    const hit = ctx.op('ReduceSum', [oh.name, ctx.constI([1])], { keepdims: attr.i(1) });
    const argm = ctx.op('ArgMax', [oh.name], { axis: attr.i(1), keepdims: attr.i(1) });
    const code = ctx.op('Gather', [ctx.constD(idx, [m]), argm]);
    const isUnknown = ctx.op('Equal', [hit, ctx.constD([0], [])]);
    return { name: ctx.op('Where', [isUnknown, ctx.constD([unknown], []), code]), type: 'DOUBLE' as const, cols: 1 };
  });
  return ctx.concat(parts);
}

/** LabelEncoder (targets): value → index in classes_, [N,1] float64; unknown values → -1. */
export function labelEncoder(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const oh = oneHotColumn(ctx, column(ctx, x, 0), arr(est, 'classes_'));
  const hit = ctx.op('ReduceSum', [oh.name, ctx.constI([1])], { keepdims: attr.i(1) });
  const argm = ctx.op('Cast', [ctx.op('ArgMax', [oh.name], { axis: attr.i(1), keepdims: attr.i(1) })], {
    to: attr.i(11),
  });
  const isUnknown = ctx.op('Equal', [hit, ctx.constD([0], [])]);
  return { name: ctx.op('Where', [isUnknown, ctx.constD([-1], []), argm]), type: 'DOUBLE', cols: 1 };
}

/** Whether an encoder/imputer was fitted on strings (so its input columns should be STRING). */
export function fittedOnStrings(est: PyObject): boolean {
  if (est.name === 'OneHotEncoder' || est.name === 'OrdinalEncoder' || est.name === 'TargetEncoder') {
    return categories(est).some((c) => labels(c).some((v) => typeof v === 'string'));
  }
  if (est.name === 'SimpleImputer') {
    const st = get(est, 'statistics_');
    return isNdArray(st) && Array.isArray(st.data) && st.data.some((v) => typeof v === 'string');
  }
  if (est.name === 'LabelEncoder' || est.name === 'LabelBinarizer')
    return labels(arr(est, 'classes_')).some((v) => typeof v === 'string');
  return false;
}
