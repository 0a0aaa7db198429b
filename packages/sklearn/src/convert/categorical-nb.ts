/**
 * CategoricalNB: joint log-likelihood class_log_prior_ + Σ_i feature_log_prob_[i][:, x_i] (x_i truncated to an
 * integer code, as scikit-learn's int validation does); predict = argmax, predict_proba = softmax. A code outside
 * 0…n_categories_−1 (or NaN), for which scikit-learn raises, gives NaN scores.
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isNdArray } from '../pickle/py-types.js';
import { type ClassifierOut, type ConvertContext, ONNX_TYPE, type Var } from './context.js';
import { expNormalize } from './naive-bayes.js';
import { arr, list, toF64 } from './state.js';

/** CategoricalNB. */
export function categoricalNb(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const tables = list(est, 'feature_log_prob_');
  if (tables.length !== x.cols)
    throw new UnsupportedEstimatorError(`CategoricalNB expects ${tables.length} features but its input has ${x.cols}`);
  const prior = toF64(arr(est, 'class_log_prior_'));
  const c = prior.length;
  const xd = ctx.cast(x, 'DOUBLE');
  let jll = ctx.constD(prior, [1, c]);
  tables.forEach((t, i) => {
    if (!isNdArray(t) || t.shape.length !== 2 || t.shape[0] !== c)
      throw new UnsupportedEstimatorError(`CategoricalNB feature_log_prob_[${i}] is not a [classes, categories] array`);
    const n = t.shape[1]!;
    const v = toF64(t);
    const byCode = new Float64Array(n * c);
    for (let k = 0; k < c; k++) for (let j = 0; j < n; j++) byCode[j * c + k] = v[k * n + j]!;
    const col = ctx.op('Gather', [xd.name, ctx.constI([i])], { axis: attr.i(1) }); // [N, 1]
    const code = ctx.op('Cast', [col], { to: attr.i(ONNX_TYPE.INT64) });
    const inRange = ctx.op('And', [
      ctx.op('GreaterOrEqual', [col, ctx.constD([0], [])]),
      ctx.op('Less', [col, ctx.constD([n], [])]),
    ]);
    const safe = ctx.op('Where', [inRange, code, ctx.constI([0], [])]);
    const picked = ctx.op('Gather', [ctx.constD(byCode, [n, c]), ctx.op('Reshape', [safe, ctx.constI([-1])])]);
    jll = ctx.op('Add', [jll, ctx.op('Where', [inRange, picked, ctx.constD([Number.NaN], [])])]);
  });
  const scores: Var = { name: jll, type: 'DOUBLE', cols: c };
  return { labelIndex: ctx.argmax(scores), probabilities: expNormalize(ctx, scores) };
}
