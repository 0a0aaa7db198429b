/**
 * GaussianProcessClassifier (Laplace approximation): binary, and multiclass one_vs_rest. Each binary member gives
 * the latent mean f* = k*·(y − π) and variance k(x, x) − ‖L⁻¹ (√W ⊙ k*)‖², and predict_proba approximates the
 * logistic integral with scikit-learn's five error functions (LAMBDAS, COEFS of sklearn/gaussian_process/_gpc.py).
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isPyObject } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, Var } from './context.js';
import { erfOp } from './erf.js';
import { kernel } from './gaussian-process.js';
import {
  choleskyFactor,
  kernelDiagonal,
  MAX_VARIANCE_TRAINING_ROWS,
  posteriorVariance,
  scaledInverseTranspose,
} from './gaussian-process-variance.js';
import { filled } from './math.js';
import { arr, get, list, obj, str, toF64 } from './state.js';

/** Williams & Barber's approximation of the logistic sigmoid by five error functions, as in scikit-learn. */
const LAMBDAS = [0.41, 0.4, 0.37, 0.44, 0.39];
const COEFS = [-1854.8214151, 3516.89893646, 221.29346712, 128.12323805, -2010.49422654];
const BINARY = '_BinaryGaussianProcessClassifierLaplace';

/**
 * One binary Laplace member: its latent mean f* [N, 1] and positive-class probability π* [N, 1] (absent past
 * MAX_VARIANCE_TRAINING_ROWS training rows: the variance needs an [m, m] constant).
 */
function binaryLaplace(ctx: ConvertContext, est: PyObject, x: Var): { f: string; p?: string } {
  if (est.name !== BINARY)
    throw new UnsupportedEstimatorError(`GaussianProcessClassifier member ${est.name} is not a ${BINARY}`);
  const fitArr = arr(est, 'X_train_');
  if (fitArr.shape.length !== 2) throw new UnsupportedEstimatorError(`${BINARY} X_train_ must be 2-D`);
  const [m, f] = fitArr.shape as [number, number];
  if (f !== x.cols) throw new UnsupportedEstimatorError(`${BINARY} expects ${f} features but its input has ${x.cols}`);
  const k = get(est, 'kernel_');
  if (!isPyObject(k)) throw new UnsupportedEstimatorError(`${BINARY} has no fitted kernel_ (is it fitted?)`);
  const vec = (key: string): Float64Array => {
    const v = toF64(arr(est, key));
    if (v.length !== m)
      throw new UnsupportedEstimatorError(`${BINARY} ${key} has ${v.length} values for ${m} training rows`);
    return v;
  };
  const y = vec('y_train_');
  const pi = vec('pi_');
  const xd = ctx.cast(x, 'DOUBLE');
  const kv = kernel(ctx, k, { x: xd, fit: toF64(fitArr), m, f });
  const kmat = kv.name ?? filled(ctx, xd, m, 1).name;
  // the kernel's constant folded into the MatMul constants (onnxruntime would fuse a scalar Mul as float32)
  const resid = Float64Array.from(y, (v, i) => (v - pi[i]!) * kv.c);
  const fStar = ctx.op('MatMul', [kmat, ctx.constD(resid, [m, 1])]);
  if (m > MAX_VARIANCE_TRAINING_ROWS) return { f: fStar };
  const wsr = vec('W_sr_');
  const lArr = arr(est, 'L_');
  const l = choleskyFactor(BINARY, lArr, toF64(lArr), m);
  const w = scaledInverseTranspose(l, m, kv.c, wsr);
  const variance = posteriorVariance(ctx, kmat, w, m, kernelDiagonal(ctx, k, xd));
  // alpha = 1 / (2 var); integrals = sqrt(pi/alpha) erf(λ f sqrt(alpha / (alpha + λ²))) / (2 sqrt(2π var))
  const lambdas = ctx.constD(LAMBDAS, [1, 5]);
  const alpha = ctx.op('Div', [ctx.constD([1], []), ctx.op('Mul', [variance, ctx.constD([2], [])])]);
  const gamma = ctx.op('Mul', [fStar, lambdas]);
  const ratio = ctx.op('Div', [
    alpha,
    ctx.op('Add', [
      alpha,
      ctx.constD(
        LAMBDAS.map((v) => v * v),
        [1, 5],
      ),
    ]),
  ]);
  const erf = erfOp(ctx, ctx.op('Mul', [gamma, ctx.op('Sqrt', [ratio])]));
  const front = ctx.op('Sqrt', [ctx.op('Div', [ctx.constD([Math.PI], []), alpha])]);
  const den = ctx.op('Mul', [
    ctx.op('Sqrt', [ctx.op('Mul', [ctx.op('Mul', [variance, ctx.constD([2], [])]), ctx.constD([Math.PI], [])])]),
    ctx.constD([2], []),
  ]);
  const integrals = ctx.op('Div', [ctx.op('Mul', [front, erf]), den]);
  const weighted = ctx.op('Mul', [integrals, ctx.constD(COEFS, [1, 5])]);
  const sum = ctx.op('ReduceSum', [weighted, ctx.constI([1])], { keepdims: attr.i(1) });
  const half = 0.5 * COEFS.reduce((a, b) => a + b, 0);
  return { f: fStar, p: ctx.op('Add', [sum, ctx.constD([half], [])]) };
}

/**
 * GaussianProcessClassifier: predict, predict_proba (binary, or one_vs_rest normalized over the classes). A binary one
 * past MAX_VARIANCE_TRAINING_ROWS training rows serves predict only.
 */
export function gaussianProcessClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const classes = arr(est, 'classes_').shape[0] ?? 0;
  const base = obj(est, 'base_estimator_');
  if (classes === 2) {
    const { f, p } = binaryLaplace(ctx, base, x);
    const labelIndex = ctx.positiveIndex({ name: f, type: 'DOUBLE', cols: 1 });
    if (p === undefined) return { labelIndex };
    const one = ctx.op('Sub', [ctx.constD([1], []), p]);
    const probabilities: Var = { name: ctx.op('Concat', [one, p], { axis: attr.i(1) }), type: 'DOUBLE', cols: 2 };
    return { labelIndex, probabilities };
  }
  const mode = str(est, 'multi_class', 'one_vs_rest');
  if (mode !== 'one_vs_rest' || base.name !== 'OneVsRestClassifier') {
    throw new UnsupportedEstimatorError(
      `GaussianProcessClassifier(multi_class='${mode}') is not supported: scikit-learn has no predict_proba for one_vs_one, refit with multi_class='one_vs_rest'`,
    );
  }
  const members = list(base, 'estimators_');
  if (members.length !== classes) {
    throw new UnsupportedEstimatorError(
      `GaussianProcessClassifier has ${members.length} binary members for ${classes} classes`,
    );
  }
  const columns = members.map((e) => {
    if (!isPyObject(e)) throw new UnsupportedEstimatorError('GaussianProcessClassifier member is not an estimator');
    const { p } = binaryLaplace(ctx, e, x);
    if (p === undefined) {
      throw new UnsupportedEstimatorError(
        `multiclass GaussianProcessClassifier with more than ${MAX_VARIANCE_TRAINING_ROWS} training rows is not supported: its predict needs each member's posterior variance, an [m, m] matrix in the graph`,
      );
    }
    return p;
  });
  const raw = ctx.op('Concat', columns, { axis: attr.i(1) });
  // OneVsRestClassifier.predict: the last class with the highest positive-class probability
  const labelIndex = ctx.op('ArgMax', [raw], { axis: attr.i(1), keepdims: attr.i(0), select_last_index: attr.i(1) });
  const sum = ctx.op('ReduceSum', [raw, ctx.constI([1])], { keepdims: attr.i(1) });
  const probabilities: Var = { name: ctx.op('Div', [raw, sum]), type: 'DOUBLE', cols: classes };
  return { labelIndex, probabilities };
}
