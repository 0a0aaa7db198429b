/** GaussianNB, MultinomialNB, ComplementNB and BernoulliNB: joint log-likelihoods, argmax and exp(jll − logsumexp). */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, Var } from './context.js';
import { transpose } from './linalg.js';
import { arr, get, toF64 } from './state.js';

/** exp(v − logsumexp(v)) per row, as sklearn's _BaseNB.predict_proba (and QDA's likelihood normalization). */
export function expNormalize(ctx: ConvertContext, v: Var): Var {
  const keep = { keepdims: attr.i(1) };
  const axes = ctx.constI([1]);
  const m = ctx.op('ReduceMax', [v.name, axes], keep);
  const s = ctx.op('ReduceSum', [ctx.op('Exp', [ctx.op('Sub', [v.name, m])]), axes], keep);
  const lse = ctx.op('Add', [m, ctx.op('Log', [s])]);
  return { name: ctx.op('Exp', [ctx.op('Sub', [v.name, lse])]), type: 'DOUBLE', cols: v.cols };
}

/** GaussianNB: log prior − ½Σlog(2π var) − ½Σ(x − θ)²/var, per class. */
function gaussianJll(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const theta = arr(est, 'theta_');
  const varKey = get(est, 'var_') !== undefined ? 'var_' : 'sigma_';
  const variance = toF64(arr(est, varKey));
  const [c, f] = theta.shape as [number, number];
  if (f !== x.cols) throw new UnsupportedEstimatorError(`GaussianNB expects ${f} features but its input has ${x.cols}`);
  const prior = toF64(arr(est, 'class_prior_'));
  const constant = Float64Array.from({ length: c }, (_, i) => {
    let s = 0;
    for (let j = 0; j < f; j++) s += Math.log(2 * Math.PI * variance[i * f + j]!);
    return Math.log(prior[i]!) - 0.5 * s;
  });
  const xd = ctx.cast(x, 'DOUBLE');
  const x3 = ctx.op('Unsqueeze', [xd.name, ctx.constI([1])]); // [N, 1, F]
  const diff = ctx.op('Sub', [x3, ctx.constD(toF64(theta), [1, c, f])]);
  const sq = ctx.op('Div', [ctx.op('Mul', [diff, diff]), ctx.constD(variance, [1, c, f])]);
  const sum = ctx.op('ReduceSum', [sq, ctx.constI([2])], { keepdims: attr.i(0) }); // [N, C]
  const jll = ctx.op('Sub', [ctx.constD(constant, [1, c]), ctx.op('Mul', [sum, ctx.constD([0.5], [])])]);
  return { name: jll, type: 'DOUBLE', cols: c };
}

/** Discrete NB: X · feature_log_prob_ᵀ (+ class_log_prior_), BernoulliNB with its binarization and negative term. */
function discreteJll(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const flpArr = arr(est, 'feature_log_prob_');
  const [c, f] = flpArr.shape as [number, number];
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`${est.name} expects ${f} features but its input has ${x.cols}`);
  const flp = toF64(flpArr);
  const prior = toF64(arr(est, 'class_log_prior_'));
  let xd = ctx.cast(x, 'DOUBLE');
  if (est.name === 'BernoulliNB') {
    const b = get(est, 'binarize');
    if (typeof b === 'number') {
      const gt = ctx.op('Greater', [xd.name, ctx.constD([b], [])]);
      xd = { name: ctx.op('Cast', [gt], { to: attr.i(11) }), type: 'DOUBLE', cols: f };
    }
    const neg = Float64Array.from(flp, (v) => Math.log(1 - Math.exp(v)));
    const w = Float64Array.from(flp, (v, i) => v - neg[i]!);
    const bias = Float64Array.from({ length: c }, (_, i) => {
      let s = 0;
      for (let j = 0; j < f; j++) s += neg[i * f + j]!;
      return prior[i]! + s;
    });
    return ctx.affine(xd, transpose(w, c, f), c, bias);
  }
  const addPrior = est.name === 'MultinomialNB' || c === 1;
  return ctx.affine(xd, transpose(flp, c, f), c, addPrior ? prior : undefined);
}

/** The naive Bayes classifiers: predict = argmax jll, predict_proba = exp(jll − logsumexp(jll)). */
export function naiveBayes(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const jll = est.name === 'GaussianNB' ? gaussianJll(ctx, est, x) : discreteJll(ctx, est, x);
  return { labelIndex: ctx.argmax(jll), probabilities: expNormalize(ctx, jll) };
}
