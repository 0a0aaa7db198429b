/** KMeans, MiniBatchKMeans (predict, transform); NearestCentroid (predict; 1.6+: predict_proba, decision_function). */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, MethodOutputs, Var } from './context.js';
import { squaredDistances } from './pairwise.js';
import { arr, get, has, str, toF64 } from './state.js';

/** KMeans / MiniBatchKMeans: predict = nearest cluster_centers_ row (INT64), transform = euclidean distances. */
export function kMeans(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const centers = arr(est, 'cluster_centers_');
  const [k, f] = centers.shape as [number, number];
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`${est.name} expects ${f} features but its input has ${x.cols}`);
  const d2 = squaredDistances(ctx, x, toF64(centers), k);
  const label = ctx.op('ArgMin', [d2], { axis: attr.i(1), keepdims: attr.i(1) });
  return {
    predict: { name: label, type: 'INT64', cols: 1 },
    transform: { name: ctx.op('Sqrt', [d2]), type: 'DOUBLE', cols: k },
  };
}

/** NearestCentroid: class of the nearest centroids_ (euclidean or manhattan). */
export function nearestCentroid(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const centroids = arr(est, 'centroids_');
  const [k, f] = centroids.shape as [number, number];
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`NearestCentroid expects ${f} features but its input has ${x.cols}`);
  const metric = typeof get(est, 'metric') === 'string' ? str(est, 'metric') : 'euclidean';
  let d: string;
  if (metric === 'euclidean') d = squaredDistances(ctx, x, toF64(centroids), k);
  else if (metric === 'manhattan') {
    const x3 = ctx.op('Unsqueeze', [ctx.cast(x, 'DOUBLE').name, ctx.constI([1])]);
    const diff = ctx.op('Abs', [ctx.op('Sub', [x3, ctx.constD(toF64(centroids), [1, k, f])])]);
    d = ctx.op('ReduceSum', [diff, ctx.constI([2])], { keepdims: attr.i(0) });
  } else throw new UnsupportedEstimatorError(`NearestCentroid metric '${metric}' is not supported`);
  const nearest = ctx.op('ArgMin', [d], { axis: attr.i(1), keepdims: attr.i(0) });
  if (metric !== 'euclidean' || !has(est, 'within_class_std_dev_') || !has(est, 'class_prior_')) {
    return { labelIndex: nearest };
  }
  return nearestCentroidDiscriminant(ctx, est, x, toF64(centroids), k, nearest);
}

/**
 * NearestCentroid (scikit-learn >= 1.6, euclidean): discriminant scores −‖(x − c) / σ‖² + 2·log prior (σ the
 * within-class standard deviations, features with σ = 0 unscaled); decision_function (binary: score₁ − score₀),
 * predict_proba = their softmax, and predict = their argmax unless the priors are uniform (then the nearest centroid).
 */
function nearestCentroidDiscriminant(
  ctx: ConvertContext,
  est: PyObject,
  x: Var,
  centroids: Float64Array,
  k: number,
  nearest: string,
): ClassifierOut {
  const f = x.cols;
  const std = toF64(arr(est, 'within_class_std_dev_'));
  const prior = toF64(arr(est, 'class_prior_'));
  if (std.length !== f || prior.length !== k) {
    throw new UnsupportedEstimatorError(
      `NearestCentroid has ${std.length} within_class_std_dev_ for ${f} features and ${prior.length} class_prior_ for ${k} classes`,
    );
  }
  const scale = Float64Array.from(std, (v) => (v !== 0 ? v : 1));
  const scaledCentroids = Float64Array.from(centroids, (v, i) => v / scale[i % f]!);
  const xs: Var = {
    name: ctx.op('Div', [ctx.cast(x, 'DOUBLE').name, ctx.constD(scale, [1, f])]),
    type: 'DOUBLE',
    cols: f,
  };
  const d2 = squaredDistances(ctx, xs, scaledCentroids, k);
  const logPrior = Float64Array.from(prior, (p) => 2 * Math.log(p));
  const scores: Var = { name: ctx.op('Sub', [ctx.constD(logPrior, [1, k]), d2]), type: 'DOUBLE', cols: k };
  // np.isclose(class_prior_, 1 / k): rtol 1e-5, atol 1e-8
  const uniform = prior.every((p) => Math.abs(p - 1 / k) <= 1e-8 + 1e-5 * (1 / k));
  const decision =
    k === 2
      ? {
          name: ctx.op('Sub', [ctx.columns(scores, [1]).name, ctx.columns(scores, [0]).name]),
          type: 'DOUBLE' as const,
          cols: 1,
        }
      : scores;
  return { labelIndex: uniform ? nearest : ctx.argmax(scores), probabilities: ctx.softmax(scores), decision };
}
