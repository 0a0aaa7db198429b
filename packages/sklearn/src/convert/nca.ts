/** NeighborhoodComponentsAnalysis: the learned linear projection. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { arr, toF64 } from './state.js';

/** NeighborhoodComponentsAnalysis.transform: x · components_ᵀ. */
export function ncaTransform(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const comp = arr(est, 'components_');
  const [k, f] = comp.shape as [number, number];
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`${est.name} expects ${f} features but its input has ${x.cols}`);
  const c = toF64(comp);
  const w = new Float64Array(f * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < f; j++) w[j * k + i] = c[i * f + j]!;
  return ctx.affine(x, w, k);
}
