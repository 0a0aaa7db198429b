/** LinearDiscriminantAnalysis (predict, predict_proba, decision_function, transform) and QuadraticDiscriminantAnalysis. */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isNdArray } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, MethodOutputs, Var } from './context.js';
import { linearDecision } from './linear.js';
import { expNormalize } from './naive-bayes.js';
import { arr, has, list, num, str, toF64 } from './state.js';

/** LDA: decision = X·coef_ᵀ + intercept_; binary proba [1 − σ(d), σ(d)], multiclass softmax(d). */
export function lda(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const d = linearDecision(ctx, est, x);
  if (d.cols === 1)
    return { labelIndex: ctx.positiveIndex(d), probabilities: ctx.twoColumns(ctx.unary('Sigmoid', d)), decision: d };
  return { labelIndex: ctx.argmax(d), probabilities: ctx.softmax(d), decision: d };
}

/** LDA.transform: svd → (X − xbar_)·scalings_, eigen → X·scalings_, first _max_components columns. */
export function ldaTransform(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const solver = str(est, 'solver', 'svd');
  if (solver === 'lsqr') return {};
  const sc = arr(est, 'scalings_');
  const [f, k] = sc.shape as [number, number];
  const keep = Math.min(k, num(est, '_max_components', k));
  const s = toF64(sc);
  const w = new Float64Array(f * keep);
  for (let i = 0; i < f; i++) for (let j = 0; j < keep; j++) w[i * keep + j] = s[i * k + j]!;
  let xd = ctx.cast(x, 'DOUBLE');
  if (solver === 'svd' && has(est, 'xbar_')) {
    xd = { name: ctx.op('Sub', [xd.name, ctx.constD(toF64(arr(est, 'xbar_')), [1, f])]), type: 'DOUBLE', cols: f };
  }
  return { transform: ctx.affine(xd, w, keep) };
}

/** QDA: per class −½(‖(X − μ)·R·S^−½‖² + Σlog S) + log prior; proba normalizes exp(d − max). */
export function qda(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const means = arr(est, 'means_');
  const [c, f] = means.shape as [number, number];
  if (f !== x.cols) throw new UnsupportedEstimatorError(`QDA expects ${f} features but its input has ${x.cols}`);
  const mu = toF64(means);
  const rotations = list(est, 'rotations_');
  const scalings = list(est, 'scalings_');
  const priors = toF64(arr(est, 'priors_'));
  const xd = ctx.cast(x, 'DOUBLE');
  const cols: string[] = [];
  for (let i = 0; i < c; i++) {
    const rA = rotations[i];
    const sA = scalings[i];
    if (!isNdArray(rA) || !isNdArray(sA))
      throw new UnsupportedEstimatorError('QDA rotations_/scalings_ must be arrays');
    const r = toF64(rA);
    const s = toF64(sA);
    const k = s.length;
    const w = new Float64Array(f * k);
    for (let a = 0; a < f; a++) for (let b = 0; b < k; b++) w[a * k + b] = r[a * rA.shape[1]! + b]! * s[b]! ** -0.5;
    const xm = ctx.op('Sub', [xd.name, ctx.constD(mu.subarray(i * f, (i + 1) * f), [1, f])]);
    const x2 = ctx.op('MatMul', [xm, ctx.constD(w, [f, k])]);
    const norm2 = ctx.op('ReduceSum', [ctx.op('Mul', [x2, x2]), ctx.constI([1])], { keepdims: attr.i(1) });
    let u = 0;
    for (const v of s) u += Math.log(v);
    const dec = ctx.op('Add', [
      ctx.op('Mul', [ctx.op('Add', [norm2, ctx.constD([u], [])]), ctx.constD([-0.5], [])]),
      ctx.constD([Math.log(priors[i]!)], []),
    ]);
    cols.push(dec);
  }
  const values: Var = { name: ctx.op('Concat', cols, { axis: attr.i(1) }), type: 'DOUBLE', cols: c };
  const decision: Var =
    c === 2
      ? { name: ctx.op('Sub', [ctx.columns(values, [1]).name, ctx.columns(values, [0]).name]), type: 'DOUBLE', cols: 1 }
      : values;
  return { labelIndex: ctx.argmax(values), probabilities: expNormalize(ctx, values), decision };
}
