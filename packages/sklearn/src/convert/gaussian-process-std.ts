/**
 * GaussianProcessRegressor `predict(X, return_std=True)`, served as the method `predict_std`: [N, 2] (mean, std) for
 * one target, [N, 2T] (the T means, then the T stds) for T targets. Variance = k(x, x) − ‖L⁻¹ k*‖², negative values
 * set to 0 as scikit-learn does, then scaled by `_y_train_std`² (normalize_y).
 */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isPyObject } from '../pickle/py-types.js';
import type { ConvertContext, MethodOutputs, Var } from './context.js';
import { gaussianProcessRegressor, kernel } from './gaussian-process.js';
import {
  choleskyFactor,
  kernelDiagonal,
  MAX_VARIANCE_TRAINING_ROWS,
  posteriorVariance,
  scaledInverseTranspose,
} from './gaussian-process-variance.js';
import { filled } from './math.js';
import { arr, get, toF64 } from './state.js';

/** `predict_std` of a fitted GaussianProcessRegressor (none past MAX_VARIANCE_TRAINING_ROWS training rows). */
export function gaussianProcessStd(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const mean = gaussianProcessRegressor(ctx, est, x);
  const fitArr = arr(est, 'X_train_');
  const [m, f] = fitArr.shape as [number, number];
  if (m > MAX_VARIANCE_TRAINING_ROWS) return {}; // predict only: the variance needs an [m, m] constant
  const k = get(est, 'kernel_');
  if (!isPyObject(k)) throw new UnsupportedEstimatorError('GaussianProcessRegressor has no fitted kernel_');
  const xd = ctx.cast(x, 'DOUBLE');
  const kv = kernel(ctx, k, { x: xd, fit: toF64(fitArr), m, f });
  const kmat = kv.name ?? filled(ctx, xd, m, 1).name;
  const lArr = arr(est, 'L_');
  const l = choleskyFactor('GaussianProcessRegressor', lArr, toF64(lArr), m);
  const variance = posteriorVariance(ctx, kmat, scaledInverseTranspose(l, m, kv.c), m, kernelDiagonal(ctx, k, xd));
  const clipped = ctx.op('Where', [ctx.op('Less', [variance, ctx.constD([0], [])]), ctx.constD([0], []), variance]);
  const std = toF64(arr(est, '_y_train_std'));
  const t = mean.cols;
  if (std.length !== 1 && std.length !== t) {
    throw new UnsupportedEstimatorError(
      `GaussianProcessRegressor _y_train_std has ${std.length} values for ${t} targets`,
    );
  }
  const scale = Float64Array.from({ length: t }, (_, i) => std[std.length === 1 ? 0 : i]! ** 2);
  const sd = ctx.op('Sqrt', [ctx.op('Mul', [clipped, ctx.constD(scale, [1, t])])]);
  return { predict_std: ctx.concat([mean, { name: sd, type: 'DOUBLE', cols: t }]) };
}
