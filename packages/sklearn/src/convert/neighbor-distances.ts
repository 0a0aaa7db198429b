/**
 * Distances from each input row to every stored training row (`_fit_X`) as scikit-learn's neighbour searches
 * compute them: `_fit_method` 'brute' with a euclidean metric uses euclidean_distances' expansion
 * (‖x‖² − 2x·f + ‖f‖², clipped at 0); KDTree / BallTree and every other metric sum exact per-feature differences.
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { squaredDistances } from './pairwise.js';
import { arr, get, num, str, toF64 } from './state.js';

/** Distances [N, M] and the "reduced" distances the radius test uses (squared for euclidean, Σ|d|^p for minkowski). */
export interface PairDistances {
  /** DOUBLE [N, M] metric distances. */
  dist: string;
  /** DOUBLE [N, M] reduced distances (monotone in `dist`). */
  rdist: string;
  /** A radius in reduced units. */
  reduce: (r: number) => number;
  /** Training rows. */
  m: number;
}

/** The metric a fitted neighbours estimator uses, as a Minkowski power (Infinity: chebyshev). */
function minkowskiPower(est: PyObject): number {
  const metricRaw = get(est, 'effective_metric_') ?? get(est, 'metric');
  if (metricRaw !== undefined && metricRaw !== null && typeof metricRaw !== 'string')
    throw new UnsupportedEstimatorError(`${est.name} with metric=a callable is not supported`);
  const metric = typeof metricRaw === 'string' ? metricRaw : 'minkowski';
  const params = get(est, 'effective_metric_params_');
  let p = num(est, 'p', 2);
  if (params instanceof Map && typeof params.get('p') === 'number') p = params.get('p') as number;
  if (params instanceof Map && params.get('w') !== undefined && params.get('w') !== null)
    throw new UnsupportedEstimatorError(`${est.name} with weighted minkowski is not supported`);
  if (metric === 'euclidean' || metric === 'l2') return 2;
  if (metric === 'manhattan' || metric === 'cityblock' || metric === 'l1') return 1;
  if (metric === 'chebyshev' || metric === 'infinity') return Number.POSITIVE_INFINITY;
  if (metric === 'minkowski' && p >= 1) return p;
  throw new UnsupportedEstimatorError(
    `${est.name}(metric='${metric}') is not supported (euclidean, manhattan, chebyshev, minkowski are)`,
  );
}

/** Distances already in a graph, per estimator and input: a model's methods (predict, kneighbors) share them. */
const built = new WeakMap<ConvertContext, Map<PyObject, Map<string, PairDistances>>>();

/** Pairwise distances of `x` to the estimator's `_fit_X` (built once per graph, estimator and input). */
export function pairDistances(ctx: ConvertContext, est: PyObject, x: Var): PairDistances {
  const perEstimator = built.get(ctx) ?? new Map<PyObject, Map<string, PairDistances>>();
  built.set(ctx, perEstimator);
  const perInput = perEstimator.get(est) ?? new Map<string, PairDistances>();
  perEstimator.set(est, perInput);
  const seen = perInput.get(x.name);
  if (seen) return seen;
  const d = buildPairDistances(ctx, est, x);
  perInput.set(x.name, d);
  return d;
}

function buildPairDistances(ctx: ConvertContext, est: PyObject, x: Var): PairDistances {
  const p = minkowskiPower(est);
  const fitArr = arr(est, '_fit_X');
  const [m, f] = fitArr.shape as [number, number];
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`${est.name} expects ${f} features but its input has ${x.cols}`);
  const fit = toF64(fitArr);
  const xd = ctx.cast(x, 'DOUBLE');
  if (p === 2 && str(est, '_fit_method', 'brute') === 'brute') {
    const rdist = squaredDistances(ctx, xd, fit, m);
    return { dist: ctx.op('Sqrt', [rdist]), rdist, reduce: (r) => r * r, m };
  }
  if (p === 2) {
    const rdist = perFeature(ctx, xd, fit, m, f, 'square');
    return { dist: ctx.op('Sqrt', [rdist]), rdist, reduce: (r) => r * r, m };
  }
  if (p === Number.POSITIVE_INFINITY) {
    const d = perFeature(ctx, xd, fit, m, f, 'max');
    return { dist: d, rdist: d, reduce: (r) => r, m };
  }
  if (p === 1) {
    const d = perFeature(ctx, xd, fit, m, f, 'abs');
    return { dist: d, rdist: d, reduce: (r) => r, m };
  }
  const rdist = perFeature(ctx, xd, fit, m, f, 'pow', p);
  return { dist: ctx.op('Pow', [rdist, ctx.constD([1 / p], [])]), rdist, reduce: (r) => r ** p, m };
}

/**
 * Σ_j g(x_j − fit_j) (or max_j) [N, M], one [N, M] term per feature in feature order, as scipy's cdist and
 * sklearn's KDTree / BallTree sum them; memory N·M however many features.
 */
export function perFeature(
  ctx: ConvertContext,
  x: Var,
  fit: Float64Array,
  m: number,
  f: number,
  g: 'square' | 'abs' | 'pow' | 'max',
  p = 1,
): string {
  let acc: string | undefined;
  for (let j = 0; j < f; j++) {
    const col = ctx.op('Gather', [x.name, ctx.constI([j])], { axis: attr.i(1) });
    const fitCol = Float64Array.from({ length: m }, (_, i) => fit[i * f + j]!);
    const diff = ctx.op('Sub', [col, ctx.constD(fitCol, [1, m])]);
    const term =
      g === 'square'
        ? ctx.op('Mul', [diff, diff])
        : g === 'pow'
          ? ctx.op('Pow', [ctx.op('Abs', [diff]), ctx.constD([p], [])])
          : ctx.op('Abs', [diff]);
    acc = acc === undefined ? term : ctx.op(g === 'max' ? 'Max' : 'Add', [acc, term]);
  }
  if (acc === undefined) throw new UnsupportedEstimatorError('a neighbours model with no features is not supported');
  return acc;
}
