/**
 * KNNImputer.transform: nan_euclidean distances to the fitted rows, then per column the mean (uniform) or inverse
 * distance weighted mean of the n_neighbors nearest rows that have that column, as scikit-learn computes it.
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isPyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { transpose } from './linalg.js';
import { filled } from './math.js';
import { missingIndicator } from './missing-indicator.js';
import { arr, bool, get, num, toF64 } from './state.js';

/** Missing mask of x for `missing_values` (NaN or a number). */
function missingOf(ctx: ConvertContext, est: PyObject, x: string): string {
  const mv = get(est, 'missing_values');
  if (mv === null || mv === undefined || (typeof mv === 'number' && Number.isNaN(mv))) return ctx.op('IsNaN', [x]);
  if (typeof mv === 'number') return ctx.op('Equal', [x, ctx.constD([mv], [])]);
  throw new UnsupportedEstimatorError(`KNNImputer missing_values=${String(mv)} is not supported`);
}

/** Whether a fitted value counts as missing. */
function isMissingValue(est: PyObject): (v: number) => boolean {
  const mv = get(est, 'missing_values');
  return typeof mv === 'number' && !Number.isNaN(mv) ? (v) => v === mv : (v) => Number.isNaN(v);
}

/** nan_euclidean_distances(X, fit_X) with `missing` X's missing mask: [N, M], NaN where no coordinate is shared. */
function nanEuclidean(
  ctx: ConvertContext,
  x: Var,
  missing: string,
  fit: Float64Array,
  fitMissing: boolean[],
  m: number,
): string {
  const f = x.cols;
  const c = (v: number): string => ctx.constD([v], []);
  const yz = Float64Array.from(fit, (v, i) => (fitMissing[i] ? 0 : v));
  const t = (a: ArrayLike<number>): string => ctx.constD(transpose(Float64Array.from(a), m, f), [f, m]);
  const yy = new Float64Array(m);
  for (let i = 0; i < m; i++) for (let j = 0; j < f; j++) yy[i]! += yz[i * f + j]! ** 2;
  const missD = ctx.op('Cast', [missing], { to: attr.i(11) });
  const xz = ctx.op('Where', [missing, c(0), x.name]);
  const xx = ctx.op('ReduceSumSquare', [xz, ctx.constI([1])], { keepdims: attr.i(1) });
  let d = ctx.op('Mul', [c(-2), ctx.op('MatMul', [xz, t(yz)])]);
  d = ctx.op('Max', [ctx.op('Add', [ctx.op('Add', [d, xx]), ctx.constD(yy, [1, m])]), c(0)]);
  d = ctx.op('Sub', [d, ctx.op('MatMul', [ctx.op('Mul', [xz, xz]), t(fitMissing.map(Number))])]);
  d = ctx.op('Sub', [d, ctx.op('MatMul', [missD, t(Float64Array.from(yz, (v) => v * v))])]);
  d = ctx.op('Max', [d, c(0)]);
  const present = ctx.op('MatMul', [ctx.op('Sub', [c(1), missD]), t(fitMissing.map((v) => (v ? 0 : 1)))]);
  d = ctx.op('Where', [ctx.op('Equal', [present, c(0)]), c(Number.NaN), d]);
  d = ctx.op('Div', [d, ctx.op('Max', [present, c(1)])]);
  return ctx.op('Sqrt', [ctx.op('Mul', [d, c(f)])]);
}

/** KNNImputer (metric nan_euclidean, weights uniform or distance; add_indicator appends MissingIndicator columns). */
export function knnImputer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const metric = get(est, 'metric');
  if (metric !== 'nan_euclidean')
    throw new UnsupportedEstimatorError(
      `KNNImputer with metric=${typeof metric === 'string' ? `'${metric}'` : 'a callable'} is not supported (nan_euclidean only)`,
    );
  const weights = get(est, 'weights');
  if (weights !== 'uniform' && weights !== 'distance')
    throw new UnsupportedEstimatorError(
      `KNNImputer with weights=${typeof weights === 'string' ? `'${weights}'` : 'a callable'} is not supported (uniform, distance)`,
    );
  const fitArr = arr(est, '_fit_X');
  if (fitArr.shape.length !== 2) throw new UnsupportedEstimatorError('KNNImputer._fit_X must be a 2-D array');
  const [m, f] = fitArr.shape as [number, number];
  if (f !== x.cols) throw new UnsupportedEstimatorError(`KNNImputer expects ${f} features but its input has ${x.cols}`);
  const fit = toF64(fitArr);
  const isMissing = isMissingValue(est);
  const fitMissing = Array.from(fit, isMissing);
  const nNeighbors = num(est, 'n_neighbors', 5);
  const keepEmpty = bool(est, 'keep_empty_features', false);
  const c = (v: number): string => ctx.constD([v], []);
  const xd = ctx.cast(x, 'DOUBLE');
  const missing = missingOf(ctx, est, xd.name);
  const dist = nanEuclidean(ctx, xd, missing, fit, fitMissing, m);
  const out: Var[] = [];
  for (let col = 0; col < f; col++) {
    const donors = Array.from({ length: m }, (_, i) => i).filter((i) => !fitMissing[i * f + col]);
    if (donors.length === 0) {
      if (keepEmpty) out.push(filled(ctx, xd, 1, 0));
      continue;
    }
    const values = donors.map((i) => fit[i * f + col]!);
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const k = Math.min(nNeighbors, donors.length);
    const sub = ctx.op('Gather', [dist, ctx.constI(donors)], { axis: attr.i(1) }); // [N, D]
    const nan = ctx.op('IsNaN', [sub]);
    const anyPresent = ctx.op(
      'ReduceMax',
      [ctx.op('Cast', [ctx.op('Not', [nan])], { to: attr.i(11) }), ctx.constI([1])],
      {
        keepdims: attr.i(1),
      },
    );
    // NaN distances rank last, as np.argpartition puts them
    const key = ctx.op('Where', [nan, c(Number.POSITIVE_INFINITY), sub]);
    const [nearD, nearI] = ctx.g.node('TopK', [key, ctx.constI([k])], 2, {
      axis: attr.i(1),
      largest: attr.i(0),
      sorted: attr.i(1),
    });
    const v = ctx.op(
      'GatherElements',
      [ctx.op('Expand', [ctx.constD(values, [1, donors.length]), ctx.op('Shape', [sub])]), nearI!],
      { axis: attr.i(1) },
    );
    let imputed: string;
    if (weights === 'uniform') {
      imputed = ctx.op('Div', [ctx.op('ReduceSum', [v, ctx.constI([1])], { keepdims: attr.i(1) }), c(k)]);
    } else {
      // 1/d; a row with a zero distance weighs its zero-distance donors 1 and the rest 0; NaN (here ∞) weighs 0
      const inv = ctx.op('Div', [c(1), nearD!]);
      const isInf = ctx.op('IsInf', [inv]);
      const infRow = ctx.op('ReduceMax', [ctx.op('Cast', [isInf], { to: attr.i(11) }), ctx.constI([1])], {
        keepdims: attr.i(1),
      });
      const w = ctx.op('Where', [
        ctx.op('Cast', [infRow], { to: attr.i(9) }),
        ctx.op('Cast', [isInf], { to: attr.i(11) }),
        inv,
      ]);
      const num_ = ctx.op('ReduceSum', [ctx.op('Mul', [v, w]), ctx.constI([1])], { keepdims: attr.i(1) });
      imputed = ctx.op('Div', [num_, ctx.op('ReduceSum', [w, ctx.constI([1])], { keepdims: attr.i(1) })]);
    }
    const fallback = ctx.op('Where', [ctx.op('Cast', [anyPresent], { to: attr.i(9) }), imputed, c(mean)]);
    const xc = ctx.columns(xd, [col]);
    const mc = ctx.op('Gather', [missing, ctx.constI([col])], { axis: attr.i(1) });
    out.push({ name: ctx.op('Where', [mc, fallback, xc.name]), type: 'DOUBLE', cols: 1 });
  }
  if (bool(est, 'add_indicator', false)) {
    const ind = get(est, 'indicator_');
    if (!isPyObject(ind))
      throw new UnsupportedEstimatorError('KNNImputer(add_indicator=True) has no fitted indicator_');
    out.push(missingIndicator(ctx, ind, xd));
  }
  if (out.length === 0) throw new UnsupportedEstimatorError('KNNImputer has no column left to output');
  return ctx.concat(out);
}
