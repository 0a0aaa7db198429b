/** PLSRegression / PLSCanonical / CCA: predict and transform on the standardized input. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, MethodOutputs, Var } from './context.js';
import { pickledBySklearnAtLeast } from './sklearn-version.js';
import { arr, get, toF64 } from './state.js';

/** (X − x̄)/σ, or only X − x̄ when `scale` is false. */
function standardized(ctx: ConvertContext, est: PyObject, x: Var, scale = true): Var {
  const mean = toF64(arr(est, '_x_mean'));
  const std = toF64(arr(est, '_x_std'));
  if (mean.length !== x.cols)
    throw new UnsupportedEstimatorError(`${est.name} expects ${mean.length} features but its input has ${x.cols}`);
  const xd = ctx.cast(x, 'DOUBLE');
  const c = ctx.op('Sub', [xd.name, ctx.constD(mean, [1, x.cols])]);
  if (!scale) return { name: c, type: 'DOUBLE', cols: x.cols };
  return { name: ctx.op('Div', [c, ctx.constD(std, [1, x.cols])]), type: 'DOUBLE', cols: x.cols };
}

/**
 * predict: ((X − x̄)/σ)·coefᵀ + intercept_ (sklearn 1.1–1.2 keep coef as _coef_ [targets, features]); from
 * scikit-learn 1.5 (PR 28612) coef_ already holds the 1/σ scaling, so X is only centred.
 */
export function plsRegression(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const key = get(est, '_coef_') !== undefined ? '_coef_' : 'coef_';
  const coef = arr(est, key);
  const [t, f] = coef.shape as [number, number];
  if (f !== x.cols) throw new UnsupportedEstimatorError(`${est.name} coef_ does not match its input width`);
  const c = toF64(coef);
  const w = new Float64Array(f * t);
  for (let i = 0; i < t; i++) for (let j = 0; j < f; j++) w[j * t + i] = c[i * f + j]!;
  const coefScaled = key === 'coef_' && pickledBySklearnAtLeast(est, 1, 5);
  return ctx.affine(standardized(ctx, est, x, !coefScaled), w, t, toF64(arr(est, 'intercept_')));
}

/** transform: ((X − x̄)/σ)·x_rotations_. */
export function plsTransform(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const rot = arr(est, 'x_rotations_');
  const [, k] = rot.shape as [number, number];
  return { transform: ctx.affine(standardized(ctx, est, x), toF64(rot), k) };
}
