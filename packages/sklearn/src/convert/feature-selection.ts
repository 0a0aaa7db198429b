/**
 * Feature selectors reduce to a column mask computed at conversion time exactly as scikit-learn's
 * _get_support_mask: VarianceThreshold, SelectKBest, SelectPercentile, SelectFpr/Fdr/Fwe,
 * GenericUnivariateSelect, SelectFromModel (coef_ or tree importances), RFE and RFECV (support_).
 */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject, PyValue } from '../pickle/py-types.js';
import { isPyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { arr, get, has, list, num, obj, str, toF64 } from './state.js';

const F64_MIN = -Number.MAX_VALUE;

/** _clean_nans: NaN scores → the smallest float64. */
function cleanNans(scores: Float64Array): Float64Array {
  return Float64Array.from(scores, (v) => (Number.isNaN(v) ? F64_MIN : v));
}

/** numpy.percentile(a, q) with the default 'linear' method (numpy ≥ 1.22 lerp). */
export function percentile(a: ArrayLike<number>, q: number): number {
  const s = Array.from(a).sort((x, y) => x - y);
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  const t = pos - lo;
  const diff = s[hi]! - s[lo]!;
  return t >= 0.5 ? s[hi]! - diff * (1 - t) : s[lo]! + diff * t;
}

/** Indices of a stable ascending sort (np.argsort kind='mergesort'). */
function argsortStable(a: ArrayLike<number>): number[] {
  return Array.from({ length: a.length }, (_, i) => i).sort((i, j) => a[i]! - a[j]! || i - j);
}

function kBestMask(est: PyObject, k: PyValue | undefined): boolean[] {
  const scores = cleanNans(toF64(arr(est, 'scores_')));
  if (k === 'all') return Array.from(scores, () => true);
  const kk = Number(k);
  const mask = Array.from(scores, () => false);
  if (kk === 0) return mask;
  for (const i of argsortStable(scores).slice(-kk)) mask[i] = true;
  return mask;
}

function percentileMask(est: PyObject, pct: number): boolean[] {
  const raw = toF64(arr(est, 'scores_'));
  if (pct === 100) return Array.from(raw, () => true);
  if (pct === 0) return Array.from(raw, () => false);
  const scores = cleanNans(raw);
  const threshold = percentile(scores, 100 - pct);
  const mask = Array.from(scores, (s) => s > threshold);
  const ties = Array.from(scores.keys()).filter((i) => scores[i] === threshold);
  if (ties.length > 0) {
    const maxFeats = Math.trunc((scores.length * pct) / 100);
    const kept = mask.filter(Boolean).length;
    for (const i of ties.slice(0, Math.max(0, maxFeats - kept))) mask[i] = true;
  }
  return mask;
}

function fdrMask(pvalues: Float64Array, alpha: number): boolean[] {
  const n = pvalues.length;
  const sv = Array.from(pvalues).sort((a, b) => a - b);
  const selected = sv.filter((v, i) => v <= (alpha / n) * (i + 1));
  if (selected.length === 0) return Array.from(pvalues, () => false);
  const max = Math.max(...selected);
  return Array.from(pvalues, (p) => p <= max);
}

function univariateMask(est: PyObject, mode: string, param: number | string): boolean[] {
  switch (mode) {
    case 'k_best':
      return kBestMask(est, param);
    case 'percentile':
      return percentileMask(est, Number(param));
    case 'fpr':
      return Array.from(toF64(arr(est, 'pvalues_')), (p) => p < Number(param));
    case 'fdr':
      return fdrMask(toF64(arr(est, 'pvalues_')), Number(param));
    case 'fwe': {
      const p = toF64(arr(est, 'pvalues_'));
      return Array.from(p, (v) => v < Number(param) / p.length);
    }
    default:
      throw new UnsupportedEstimatorError(`GenericUnivariateSelect mode '${mode}' is not supported`);
  }
}

/** Impurity-based importances of one fitted tree (Tree.compute_feature_importances, normalized). */
function treeImportances(est: PyObject, nFeatures: number): Float64Array | undefined {
  const tree = obj(est, 'tree_');
  const nodes = arr(tree, 'nodes');
  const field = (name: string): Float64Array => {
    const f = nodes.fields?.get(name);
    if (!f) throw new UnsupportedEstimatorError(`${est.name}.tree_.nodes has no field '${name}'`);
    return toF64(f);
  };
  const left = field('left_child');
  const right = field('right_child');
  const feature = field('feature');
  const impurity = field('impurity');
  const w = field('weighted_n_node_samples');
  if (left.length <= 1) return undefined;
  const imp = new Float64Array(nFeatures);
  for (let i = 0; i < left.length; i++) {
    const l = left[i]!;
    if (l < 0) continue;
    const r = right[i]!;
    imp[feature[i]!]! += w[i]! * impurity[i]! - w[l]! * impurity[l]! - w[r]! * impurity[r]!;
  }
  for (let j = 0; j < nFeatures; j++) imp[j]! /= w[0]!;
  const s = imp.reduce((a, b) => a + b, 0);
  if (s > 0) for (let j = 0; j < nFeatures; j++) imp[j]! /= s;
  return imp;
}

/** feature_importances_ of a DecisionTree / RandomForest / ExtraTrees model. */
function forestImportances(est: PyObject, nFeatures: number): Float64Array {
  const single =
    est.name.startsWith('DecisionTree') || est.name === 'ExtraTreeClassifier' || est.name === 'ExtraTreeRegressor';
  if (single) return treeImportances(est, nFeatures) ?? new Float64Array(nFeatures);
  if (!/^(RandomForest|ExtraTrees)(Classifier|Regressor)$/.test(est.name)) {
    throw new UnsupportedEstimatorError(
      `SelectFromModel over ${est.name} (no coef_, and not a tree ensemble) is not supported`,
    );
  }
  const all = list(est, 'estimators_')
    .filter(isPyObject)
    .map((t) => treeImportances(t, nFeatures))
    .filter((v): v is Float64Array => v !== undefined);
  const mean = new Float64Array(nFeatures);
  if (all.length === 0) return mean;
  for (const a of all) for (let j = 0; j < nFeatures; j++) mean[j]! += a[j]!;
  for (let j = 0; j < nFeatures; j++) mean[j]! /= all.length;
  const s = mean.reduce((a, b) => a + b, 0);
  return Float64Array.from(mean, (v) => v / s);
}

function fromModelScores(sel: PyObject, est: PyObject, nFeatures: number): Float64Array {
  const getter = get(sel, 'importance_getter');
  if (getter !== undefined && getter !== 'auto') {
    throw new UnsupportedEstimatorError(`SelectFromModel importance_getter='${String(getter)}' is not supported`);
  }
  if (!has(est, 'coef_')) return forestImportances(est, nFeatures);
  const coef = arr(est, 'coef_');
  const c = toF64(coef);
  if (coef.shape.length === 1) return Float64Array.from(c, Math.abs);
  const [k, f] = coef.shape as [number, number];
  const order = get(sel, 'norm_order') ?? 1;
  const out = new Float64Array(f);
  for (let j = 0; j < f; j++) {
    const col = Array.from({ length: k }, (_, i) => Math.abs(c[i * f + j]!));
    if (order === 1) out[j] = col.reduce((a, b) => a + b, 0);
    else if (order === 2) out[j] = Math.sqrt(col.reduce((a, b) => a + b * b, 0));
    else if (typeof order === 'number' && order === Number.POSITIVE_INFINITY) out[j] = Math.max(...col);
    else throw new UnsupportedEstimatorError(`SelectFromModel norm_order=${String(order)} is not supported`);
  }
  return out;
}

function median(a: ArrayLike<number>): number {
  return percentile(a, 50);
}

function mean(a: ArrayLike<number>): number {
  return Array.from(a).reduce((s, v) => s + v, 0) / a.length;
}

function fromModelMask(sel: PyObject): boolean[] {
  const est = obj(sel, 'estimator_');
  const nFeatures = has(sel, 'n_features_in_') ? num(sel, 'n_features_in_') : num(est, 'n_features_in_');
  const scores = fromModelScores(sel, est, nFeatures);
  let t = get(sel, 'threshold');
  if (t === null || t === undefined) {
    const penalty = get(est, 'penalty');
    const l1 = (n: string): boolean => {
      const v = get(est, n);
      return typeof v === 'number' && Math.abs(v - 1) <= 1e-8 + 1e-5;
    };
    const l1Penalized =
      penalty === 'l1' ||
      est.name.includes('Lasso') ||
      (est.name.includes('ElasticNet') && (l1('l1_ratio_') || l1('l1_ratio')));
    t = l1Penalized ? 1e-5 : 'mean';
  }
  let threshold: number;
  if (typeof t === 'string') {
    const [scaleStr, ref] = t.includes('*') ? t.split('*').map((p) => p.trim()) : ['1', t];
    const base = ref === 'median' ? median(scores) : ref === 'mean' ? mean(scores) : Number.NaN;
    if (Number.isNaN(base)) throw new UnsupportedEstimatorError(`SelectFromModel threshold '${t}' is not supported`);
    threshold = Number(scaleStr) * base;
  } else threshold = Number(t);
  const maxFeatures = get(sel, 'max_features_') ?? get(sel, 'max_features');
  let mask: boolean[];
  if (typeof maxFeatures === 'number') {
    mask = Array.from(scores, () => false);
    const negated = Float64Array.from(scores, (v) => -v);
    for (const i of argsortStable(negated).slice(0, maxFeatures)) mask[i] = true;
  } else mask = Array.from(scores, () => true);
  scores.forEach((s, i) => {
    if (s < threshold) mask[i] = false;
  });
  return mask;
}

/** The boolean support mask of a fitted feature selector. */
export function supportMask(est: PyObject): boolean[] {
  switch (est.name) {
    case 'VarianceThreshold': {
      const t = num(est, 'threshold', 0);
      return Array.from(toF64(arr(est, 'variances_')), (v) => v > t);
    }
    case 'SelectKBest':
      return kBestMask(est, get(est, 'k') ?? 10);
    case 'SelectPercentile':
      return percentileMask(est, num(est, 'percentile', 10));
    case 'SelectFpr':
      return univariateMask(est, 'fpr', num(est, 'alpha', 0.05));
    case 'SelectFdr':
      return univariateMask(est, 'fdr', num(est, 'alpha', 0.05));
    case 'SelectFwe':
      return univariateMask(est, 'fwe', num(est, 'alpha', 0.05));
    case 'GenericUnivariateSelect':
      return univariateMask(
        est,
        str(est, 'mode', 'percentile'),
        get(est, 'param') === 'all' ? 'all' : num(est, 'param', 1e-5),
      );
    case 'SelectFromModel':
      return fromModelMask(est);
    case 'RFE':
    case 'RFECV':
      return Array.from(toF64(arr(est, 'support_')), (v) => v !== 0);
    default:
      throw new UnsupportedEstimatorError(`${est.name} is not a supported feature selector`);
  }
}

/** Any supported selector: the columns its support mask keeps. */
export function featureSelector(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const mask = supportMask(est);
  if (mask.length !== x.cols) {
    throw new UnsupportedEstimatorError(`${est.name} expects ${mask.length} features but its input has ${x.cols}`);
  }
  return ctx.columns(
    x,
    mask.flatMap((m, i) => (m ? [i] : [])),
  );
}
