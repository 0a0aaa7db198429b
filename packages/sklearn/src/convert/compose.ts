/** Pipeline, ColumnTransformer and FeatureUnion: how steps and column subsets are wired together. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject, PyValue } from '../pickle/py-types.js';
import { isNdArray, isPyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { fittedOnStrings } from './preprocessing.js';
import { applyTransformer } from './registry.js';
import { get, list } from './state.js';

/** The estimators of a Pipeline, flattened (nested pipelines inlined, 'passthrough'/None steps dropped). */
export function pipelineSteps(est: PyObject): PyObject[] {
  if (est.name !== 'Pipeline') return [est];
  const out: PyObject[] = [];
  for (const step of list(est, 'steps')) {
    const e = Array.isArray(step) ? step[1] : undefined;
    if (e === 'passthrough' || e === null || e === undefined) continue;
    if (!isPyObject(e)) throw new UnsupportedEstimatorError('Pipeline step is not an estimator object');
    out.push(...pipelineSteps(e));
  }
  return out;
}

/** Whether a (ColumnTransformer member) transformer takes string columns. */
function wantsStrings(est: PyObject): boolean {
  const first = pipelineSteps(est)[0];
  return first ? fittedOnStrings(first) : false;
}

/** Where a ColumnTransformer takes its columns from. */
export interface ColumnSource {
  /** The columns named/indexed by `keys`, as numbers (DOUBLE) or strings (STRING). */
  select(keys: (string | number)[], wantStrings: boolean): Var;
  /** Number of columns the ColumnTransformer sees. */
  width: number;
  /** Column names, when known. */
  names?: string[];
}

/** The column keys a ColumnTransformer entry refers to (list/str/int/slice/bool mask), resolved. */
export function resolveColumns(spec: PyValue, source: { width: number; names?: string[] }): (string | number)[] {
  if (typeof spec === 'string' || typeof spec === 'number') return [spec];
  if (isPyObject(spec) && spec.listItems) return resolveColumns(spec.listItems, source); // _RemainderColsList (1.5+)
  if (Array.isArray(spec)) {
    if (spec.every((v) => typeof v === 'boolean')) return spec.flatMap((v, i) => (v ? [i] : []));
    return spec.map((v) => {
      if (typeof v === 'string' || typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      throw new UnsupportedEstimatorError('ColumnTransformer column keys must be names or indices');
    });
  }
  if (isNdArray(spec)) {
    const items = Array.isArray(spec.data) ? spec.data : Array.from(spec.data as ArrayLike<number | bigint>, Number);
    if (spec.dtype.char === 'b') return items.flatMap((v, i) => (v ? [i] : []));
    return resolveColumns(items as PyValue[], source);
  }
  if (typeof spec === 'object' && spec !== null && (spec as { kind?: string }).kind === 'slice') {
    const s = spec as { start: PyValue; stop: PyValue; step: PyValue };
    const names = source.names;
    const pos = (v: PyValue, dflt: number, isStop: boolean): number => {
      if (v === null) return dflt;
      if (typeof v === 'number') return v < 0 ? source.width + v : v;
      if (typeof v === 'string' && names) {
        const i = names.indexOf(v);
        if (i < 0) throw new UnsupportedEstimatorError(`ColumnTransformer slice names unknown column '${v}'`);
        return isStop ? i + 1 : i; // label slices include the stop column
      }
      throw new UnsupportedEstimatorError('ColumnTransformer slice bounds must be ints or column names');
    };
    const step = typeof s.step === 'number' ? s.step : 1;
    const out: number[] = [];
    for (let i = pos(s.start, 0, false); i < pos(s.stop, source.width, true); i += step) out.push(i);
    return out;
  }
  throw new UnsupportedEstimatorError(
    'ColumnTransformer column selector is not a list, name, index, slice or mask (callables must be resolved at fit time)',
  );
}

/** Whether a ColumnTransformer selects columns by name (so requests carry one input per column). */
export function selectsByName(ct: PyObject): boolean {
  const entries = list(ct, 'transformers_');
  return entries.some((e) => {
    const cols = Array.isArray(e) ? e[2] : undefined;
    if (typeof cols === 'string') return true;
    if (Array.isArray(cols)) return cols.some((c) => typeof c === 'string');
    if (isNdArray(cols) && Array.isArray(cols.data)) return cols.data.some((c) => typeof c === 'string');
    return false;
  });
}

/** ColumnTransformer: each fitted transformer on its columns, outputs concatenated in order. */
export function columnTransformer(ctx: ConvertContext, ct: PyObject, source: ColumnSource): Var {
  const parts: Var[] = [];
  for (const entry of list(ct, 'transformers_')) {
    if (!Array.isArray(entry) || entry.length < 3)
      throw new UnsupportedEstimatorError('ColumnTransformer entry is malformed');
    const [, trans, spec] = entry;
    if (trans === 'drop') continue;
    const keys = resolveColumns(spec ?? null, source);
    if (keys.length === 0) continue;
    if (trans === 'passthrough') {
      parts.push(source.select(keys, false));
      continue;
    }
    if (!isPyObject(trans)) throw new UnsupportedEstimatorError('ColumnTransformer transformer is not an estimator');
    const x = source.select(keys, wantsStrings(trans));
    parts.push(applyTransformer(ctx, trans, x));
  }
  if (parts.length === 0) throw new UnsupportedEstimatorError('ColumnTransformer produces no columns');
  const weights = get(ct, 'transformer_weights');
  if (weights !== null && weights !== undefined) {
    throw new UnsupportedEstimatorError('ColumnTransformer with transformer_weights is not supported');
  }
  return ctx.concat(parts.map((p) => (p.type === 'STRING' ? p : ctx.cast(p, 'DOUBLE'))));
}

/** A ColumnSource over one [N, F] matrix (columns by index, or by name via feature_names_in_). */
export function matrixSource(ctx: ConvertContext, x: Var, names?: string[]): ColumnSource {
  const src: ColumnSource = {
    width: x.cols,
    ...(names ? { names } : {}),
    select(keys, wantStrings) {
      const idx = keys.map((k) => {
        if (typeof k === 'number') return k < 0 ? x.cols + k : k;
        const i = names?.indexOf(k) ?? -1;
        if (i < 0)
          throw new UnsupportedEstimatorError(`ColumnTransformer column '${k}' is not among the input features`);
        return i;
      });
      const v = ctx.columns(x, idx);
      if (wantStrings && v.type !== 'STRING') {
        throw new UnsupportedEstimatorError('a string-valued transformer cannot read columns of a numeric matrix');
      }
      return v;
    },
  };
  return src;
}

/** FeatureUnion: every transformer on the same input, outputs concatenated. */
export function featureUnion(ctx: ConvertContext, fu: PyObject, x: Var): Var {
  const parts: Var[] = [];
  const weights = get(fu, 'transformer_weights');
  if (weights !== null && weights !== undefined) {
    throw new UnsupportedEstimatorError('FeatureUnion with transformer_weights is not supported');
  }
  for (const entry of list(fu, 'transformer_list')) {
    if (!Array.isArray(entry)) continue;
    const t = entry[1];
    if (t === 'drop' || t === null) continue;
    if (t === 'passthrough') {
      parts.push(x);
      continue;
    }
    if (!isPyObject(t)) throw new UnsupportedEstimatorError('FeatureUnion member is not an estimator');
    parts.push(applyTransformer(ctx, t, x));
  }
  return ctx.concat(parts.map((p) => ctx.cast(p, 'DOUBLE')));
}
