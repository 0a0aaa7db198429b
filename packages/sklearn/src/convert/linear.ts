/** Linear models: LogisticRegression, linear classifiers without probabilities, and linear regressors (float64). */

import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, Var } from './context.js';
import { arr, get, num, str, toF64 } from './state.js';

/** coef_ [K, F] (or [F]) and intercept_ as a decision function X·coefᵀ + b, float64 [N, K]. */
export function linearDecision(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const coef = arr(est, 'coef_');
  const c = toF64(coef);
  const k = coef.shape.length === 2 ? coef.shape[0]! : 1;
  const f = coef.shape.length === 2 ? coef.shape[1]! : coef.shape[0]!;
  if (f !== x.cols) {
    throw new UnsupportedEstimatorError(`${est.name} expects ${f} features but its input has ${x.cols}`);
  }
  const w = new Float64Array(f * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < f; j++) w[j * k + i] = c[i * f + j]!;
  const iv = get(est, 'intercept_');
  let b: Float64Array;
  if (iv === undefined || iv === null) b = new Float64Array(k);
  else if (typeof iv === 'number') b = new Float64Array(k).fill(iv);
  else b = toF64(arr(est, 'intercept_'));
  if (b.length === 1 && k > 1) b = new Float64Array(k).fill(b[0]!);
  return ctx.affine(x, w, k, b);
}

/** Whether LogisticRegression.predict_proba uses one-vs-rest (sklearn 1.0-1.6 rule). */
function logisticIsOvr(est: PyObject, nClasses: number): boolean {
  const mc = get(est, 'multi_class');
  const solver = typeof get(est, 'solver') === 'string' ? str(est, 'solver') : 'lbfgs';
  if (mc === 'ovr' || mc === 'warn') return true;
  if (mc === 'multinomial') return false;
  return nClasses <= 2 || solver === 'liblinear';
}

/** Probabilities from one-vs-rest logistic decisions: binary [1-σ, σ]; multiclass σ normalized per row. */
export function ovrLogisticProba(ctx: ConvertContext, d: Var): Var {
  const s = ctx.unary('Sigmoid', d);
  return d.cols === 1 ? ctx.twoColumns(s) : ctx.normalizeRows(s);
}

/** LogisticRegression (binary, multinomial and one-vs-rest). */
export function logisticRegression(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const d = linearDecision(ctx, est, x);
  const nClasses = arr(est, 'classes_').shape[0]!;
  let probabilities: Var;
  if (logisticIsOvr(est, nClasses)) probabilities = ovrLogisticProba(ctx, d);
  else if (d.cols === 1) {
    // multinomial with two classes: softmax([-d, d]) = σ(2d)
    const two = ctx.op('Mul', [d.name, ctx.constD([2], [])]);
    probabilities = ctx.twoColumns(ctx.unary('Sigmoid', { name: two, type: 'DOUBLE', cols: 1 }));
  } else probabilities = ctx.softmax(d);
  return { labelIndex: d.cols === 1 ? ctx.positiveIndex(d) : ctx.argmax(d), probabilities, decision: d };
}

/** SGDClassifier (probabilities for log_loss and modified_huber), LinearSVC, RidgeClassifier, Perceptron. */
export function linearClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const d = linearDecision(ctx, est, x);
  const labelIndex = d.cols === 1 ? ctx.positiveIndex(d) : ctx.argmax(d);
  const loss = get(est, 'loss');
  if (est.name === 'SGDClassifier' && (loss === 'log_loss' || loss === 'log')) {
    return { labelIndex, probabilities: ovrLogisticProba(ctx, d), decision: d };
  }
  if (est.name === 'SGDClassifier' && loss === 'modified_huber') {
    // (clip(d, -1, 1) + 1) / 2; multiclass rows normalized, all-zero rows → uniform
    const clipped = ctx.op('Clip', [d.name, ctx.constD([-1], []), ctx.constD([1], [])]);
    const p = ctx.op('Div', [ctx.op('Add', [clipped, ctx.constD([1], [])]), ctx.constD([2], [])]);
    const pv: Var = { name: p, type: 'DOUBLE', cols: d.cols };
    if (d.cols === 1) return { labelIndex, probabilities: ctx.twoColumns(pv), decision: d };
    const sum = ctx.op('ReduceSum', [p, ctx.constI([1])], { keepdims: { kind: 'i', value: 1 } });
    const zero = ctx.op('Equal', [sum, ctx.constD([0], [])]);
    const norm = ctx.op('Div', [p, ctx.op('Where', [zero, ctx.constD([1], []), sum])]);
    const uniform = ctx.op('Add', [ctx.op('Mul', [p, ctx.constD([0], [])]), ctx.constD([1 / d.cols], [])]);
    return {
      labelIndex,
      probabilities: { name: ctx.op('Where', [zero, uniform, norm]), type: 'DOUBLE', cols: d.cols },
      decision: d,
    };
  }
  return { labelIndex, decision: d };
}

/** LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, LinearSVR, and friends: X·coefᵀ + b. */
export function linearRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const d = linearDecision(ctx, est, x);
  if (est.name === 'PoissonRegressor' || est.name === 'GammaRegressor') return ctx.unary('Exp', d);
  if (est.name === 'TweedieRegressor') {
    const power = num(est, 'power', 0);
    const link = get(est, 'link');
    if (link === 'log' || (link === 'auto' && power > 0)) return ctx.unary('Exp', d);
  }
  return d;
}
