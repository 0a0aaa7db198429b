/** SGDOneClassSVM: a linear one-class SVM; decision = X·coef_ − offset_, inliers where it is ≥ 0. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, MethodOutputs, Var } from './context.js';
import { arr, toF64 } from './state.js';

/** SGDOneClassSVM's predict (1 / −1, 1 where the decision is ≥ 0), decision_function and score_samples. */
export function sgdOneClassSvm(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const coef = toF64(arr(est, 'coef_'));
  if (coef.length !== x.cols) {
    throw new UnsupportedEstimatorError(`SGDOneClassSVM coef_ has ${coef.length} weights for ${x.cols} input features`);
  }
  const offset = toF64(arr(est, 'offset_'));
  if (offset.length !== 1) throw new UnsupportedEstimatorError('SGDOneClassSVM offset_ must hold one value');
  const score = ctx.affine(x, coef, 1);
  const decision = ctx.op('Sub', [score.name, ctx.constD([offset[0]!], [])]);
  const inlier = ctx.op('GreaterOrEqual', [decision, ctx.constD([0], [])]);
  const label = ctx.op('Where', [inlier, ctx.constI([1], []), ctx.constI([-1], [])]);
  return {
    predict: { name: label, type: 'INT64', cols: 1 },
    decision_function: { name: decision, type: 'DOUBLE', cols: 1 },
    score_samples: score,
  };
}
