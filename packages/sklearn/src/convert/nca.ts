/** NeighborhoodComponentsAnalysis: the learned linear projection. */
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { componentsT } from './decomposition.js';

/** NeighborhoodComponentsAnalysis.transform: x · components_ᵀ. */
export function ncaTransform(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const { w, k } = componentsT(est, x);
  return ctx.affine(x, w, k);
}
