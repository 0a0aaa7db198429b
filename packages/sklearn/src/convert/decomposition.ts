/** PCA, IncrementalPCA and TruncatedSVD: projections onto components_ (float64). */

import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, MethodOutputs, Var } from './context.js';
import { gram, inverse, logDetPositive } from './linalg.js';
import { arr, bool, has, num, toF64 } from './state.js';

/** components_ [K, F] transposed to a row-major [F, K] weight matrix. */
export function componentsT(est: PyObject, x: Var): { w: Float64Array; k: number } {
  const comp = arr(est, 'components_');
  const [k, f] = comp.shape as [number, number];
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`${est.name} expects ${f} features but its input has ${x.cols}`);
  const c = toF64(comp);
  const w = new Float64Array(f * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < f; j++) w[j * k + i] = c[i * f + j]!;
  return { w, k };
}

/** PCA / IncrementalPCA: (X − mean_) · components_ᵀ, divided by √explained_variance_ when whiten=True. */
export function pca(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const { w, k } = componentsT(est, x);
  const xd = ctx.cast(x, 'DOUBLE');
  const centered = has(est, 'mean_')
    ? {
        name: ctx.op('Sub', [xd.name, ctx.constD(toF64(arr(est, 'mean_')), [1, x.cols])]),
        type: 'DOUBLE' as const,
        cols: x.cols,
      }
    : xd;
  let y = ctx.affine(centered, w, k);
  if (bool(est, 'whiten', false)) {
    const sd = Float64Array.from(toF64(arr(est, 'explained_variance_')), Math.sqrt);
    y = { name: ctx.op('Div', [y.name, ctx.constD(sd, [1, k])]), type: 'DOUBLE', cols: k };
  }
  return y;
}

/** TruncatedSVD: X · components_ᵀ. */
export function truncatedSvd(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const { w, k } = componentsT(est, x);
  return ctx.affine(x, w, k);
}

/** PCA.get_precision() of sklearn 1.2 (probabilistic PCA), computed at conversion time. */
function pcaPrecision(est: PyObject): { precision: Float64Array; f: number } {
  const comp = arr(est, 'components_');
  const [k, f] = comp.shape as [number, number];
  const noise = num(est, 'noise_variance_');
  const expVar = toF64(arr(est, 'explained_variance_'));
  let c = toF64(comp);
  if (bool(est, 'whiten', false)) c = Float64Array.from(c, (v, i) => v * Math.sqrt(expVar[Math.floor(i / f)]!));
  const diff = Float64Array.from(expVar, (v) => Math.max(v - noise, 0));
  if (k === 0) {
    const p = new Float64Array(f * f);
    for (let i = 0; i < f; i++) p[i * f + i] = 1 / noise;
    return { precision: p, f };
  }
  if (noise === 0) {
    const cov = gram(c, k, f, diff);
    return { precision: inverse(cov, f), f };
  }
  // inner = C·Cᵀ / noise + diag(1 / diff), [k, k]
  const inner = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let j = 0; j < f; j++) s += c[a * f + j]! * c[b * f + j]!;
      inner[a * k + b] = s / noise;
    }
    inner[a * k + a]! += 1 / diff[a]!;
  }
  const inv = inverse(inner, k);
  // Cᵀ·inv·C / −noise² + I / noise
  const invC = new Float64Array(k * f);
  for (let a = 0; a < k; a++)
    for (let j = 0; j < f; j++) for (let b = 0; b < k; b++) invC[a * f + j]! += inv[a * k + b]! * c[b * f + j]!;
  const p = new Float64Array(f * f);
  for (let i = 0; i < f; i++) {
    for (let j = 0; j < f; j++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += c[a * f + i]! * invC[a * f + j]!;
      p[i * f + j] = s / -(noise * noise);
    }
    p[i * f + i]! += 1 / noise;
  }
  return { precision: p, f };
}

/** PCA score_samples (IncrementalPCA has none): Gaussian log-likelihood under the probabilistic PCA model. */
export function pcaScoreSamples(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const { precision, f } = pcaPrecision(est);
  const xd = ctx.cast(x, 'DOUBLE');
  const xr = has(est, 'mean_') ? ctx.op('Sub', [xd.name, ctx.constD(toF64(arr(est, 'mean_')), [1, f])]) : xd.name;
  const quad = ctx.op(
    'ReduceSum',
    [ctx.op('Mul', [xr, ctx.op('MatMul', [xr, ctx.constD(precision, [f, f])])]), ctx.constI([1])],
    {
      keepdims: attr.i(1),
    },
  );
  const constant = -0.5 * (f * Math.log(2 * Math.PI) - logDetPositive(precision, f));
  const score = ctx.op('Add', [ctx.op('Mul', [quad, ctx.constD([-0.5], [])]), ctx.constD([constant], [])]);
  return { score_samples: { name: score, type: 'DOUBLE', cols: 1 } };
}
