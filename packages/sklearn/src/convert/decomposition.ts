/** PCA, IncrementalPCA and TruncatedSVD: projections onto components_ (float64). */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { arr, bool, has, toF64 } from './state.js';

/** components_ [K, F] transposed to a row-major [F, K] weight matrix. */
function componentsT(est: PyObject, x: Var): { w: Float64Array; k: number } {
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
