/**
 * SVC / NuSVC (ai.onnx.ml SVMClassifier, libsvm voting and Platt probabilities), SVR / NuSVR and OneClassSVM
 * (float64 kernels).
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, MethodOutputs, Var } from './context.js';
import { ovrDecision } from './ovr-decision.js';
import { arr, get, has, num, str, toF64 } from './state.js';

function kernelParams(est: PyObject): { kernel: string; gamma: number; coef0: number; degree: number } {
  const kernel = str(est, 'kernel', 'rbf');
  if (kernel === 'precomputed' || !['linear', 'poly', 'rbf', 'sigmoid'].includes(kernel)) {
    throw new UnsupportedEstimatorError(
      `${est.name}(kernel='${kernel}') is not supported (linear, poly, rbf, sigmoid are)`,
    );
  }
  const g = get(est, '_gamma');
  const gamma = typeof g === 'number' ? g : num(est, 'gamma', 0);
  return { kernel, gamma, coef0: num(est, 'coef0', 0), degree: num(est, 'degree', 3) };
}

/** SVC / NuSVC. Labels by one-vs-one voting as libsvm; probabilities when fitted with probability=True. */
export function svc(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const { kernel, gamma, coef0, degree } = kernelParams(est);
  const classes = arr(est, 'classes_');
  const k = classes.shape[0]!;
  // libsvm's own signs: _dual_coef_/_intercept_ (sklearn flips the public ones for two classes)
  const dual = has(est, '_dual_coef_') ? toF64(arr(est, '_dual_coef_')) : toF64(arr(est, 'dual_coef_'));
  let rho = has(est, '_intercept_') ? toF64(arr(est, '_intercept_')) : toF64(arr(est, 'intercept_'));
  let coefs = dual;
  if (!has(est, '_dual_coef_') && k === 2) {
    coefs = dual.map((v) => -v);
    rho = rho.map((v) => -v);
  }
  const nSupport = has(est, '_n_support') ? toF64(arr(est, '_n_support')) : toF64(arr(est, 'n_support_'));
  const probA = has(est, '_probA')
    ? toF64(arr(est, '_probA'))
    : has(est, 'probA_')
      ? toF64(arr(est, 'probA_'))
      : new Float64Array();
  const probB = has(est, '_probB')
    ? toF64(arr(est, '_probB'))
    : has(est, 'probB_')
      ? toF64(arr(est, 'probB_'))
      : new Float64Array();
  const attrs = {
    kernel_type: attr.s(kernel.toUpperCase()),
    kernel_params: attr.floats([gamma, coef0, degree]),
    support_vectors: attr.floats(toF64(arr(est, 'support_vectors_'))),
    vectors_per_class: attr.ints(Array.from(nSupport)),
    coefficients: attr.floats(coefs),
    rho: attr.floats(rho),
    post_transform: attr.s('NONE'),
    classlabels_ints: attr.ints(Array.from({ length: k }, (_, i) => i)),
    ...(probA.length > 0 ? { prob_a: attr.floats(probA), prob_b: attr.floats(probB) } : {}),
  };
  const xf = ctx.cast(x, 'FLOAT');
  const [label, scores] = ctx.ml('SVMClassifier', [xf.name], attrs, 2);
  const out: ClassifierOut = { labelIndex: label!, decision: svcDecision(ctx, est, x, coefs, rho, nSupport, k) };
  if (probA.length > 0) out.probabilities = ctx.cast({ name: scores!, type: 'FLOAT', cols: k }, 'DOUBLE');
  return out;
}

/**
 * SVC / NuSVC decision_function in float64. libsvm's one-vs-one values (pair (i, j): Σ over class i's support vectors
 * of coef[j−1]·K + Σ over class j's of coef[i]·K + intercept); two classes: their negation, [N, 1];
 * decision_function_shape='ovr' (the default): sklearn's _ovr_decision_function of them; 'ovo': as they are.
 */
function svcDecision(
  ctx: ConvertContext,
  est: PyObject,
  x: Var,
  coefs: Float64Array,
  intercepts: Float64Array,
  nSupport: Float64Array,
  k: number,
): Var {
  const km = kernelMatrix(ctx, est, x);
  const nsv = km.cols;
  const pairs = (k * (k - 1)) / 2;
  const starts = [0];
  for (const c of nSupport) starts.push(starts[starts.length - 1]! + c);
  if (nSupport.length !== k || starts[k] !== nsv || coefs.length !== (k - 1) * nsv || intercepts.length !== pairs) {
    throw new UnsupportedEstimatorError(
      `${est.name} support vectors, dual coefficients and intercepts do not agree (${k} classes, ${nsv} support vectors)`,
    );
  }
  const w = new Float64Array(nsv * pairs);
  let p = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      for (let s = starts[i]!; s < starts[i + 1]!; s++) w[s * pairs + p] = coefs[(j - 1) * nsv + s]!;
      for (let s = starts[j]!; s < starts[j + 1]!; s++) w[s * pairs + p] = coefs[i * nsv + s]!;
      p++;
    }
  }
  const dec = ctx.affine(km, w, pairs, intercepts);
  if (k === 2) return { name: ctx.op('Neg', [dec.name]), type: 'DOUBLE', cols: 1 };
  if (str(est, 'decision_function_shape', 'ovr') === 'ovo') return dec;
  const secondWins: Var = {
    name: ctx.op('Cast', [ctx.op('Less', [dec.name, ctx.constD([0], [])])], { to: attr.i(11) }),
    type: 'DOUBLE',
    cols: pairs,
  };
  const confidence: Var = { name: ctx.op('Neg', [dec.name]), type: 'DOUBLE', cols: pairs };
  return ovrDecision(ctx, secondWins, confidence, k);
}

/** Kernel matrix K(X, SV) [N, nSV] in float64. */
function kernelMatrix(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const { kernel, gamma, coef0, degree } = kernelParams(est);
  const svArr = arr(est, 'support_vectors_');
  const nsv = svArr.shape[0]!;
  const f = svArr.shape[1]!;
  const sv = toF64(svArr);
  const svT = new Float64Array(f * nsv);
  for (let i = 0; i < nsv; i++) for (let j = 0; j < f; j++) svT[j * nsv + i] = sv[i * f + j]!;
  const xd = ctx.cast(x, 'DOUBLE');
  const dot = ctx.op('MatMul', [xd.name, ctx.constD(svT, [f, nsv])]);
  let kname: string;
  if (kernel === 'linear') kname = dot;
  else if (kernel === 'rbf') {
    const sq = new Float64Array(nsv);
    for (let i = 0; i < nsv; i++) for (let j = 0; j < f; j++) sq[i]! += sv[i * f + j]! ** 2;
    const xsq = ctx.op('ReduceSumSquare', [xd.name, ctx.constI([1])], { keepdims: attr.i(1) });
    const d2 = ctx.op('Add', [
      ctx.op('Sub', [xsq, ctx.op('Mul', [dot, ctx.constD([2], [])])]),
      ctx.constD(sq, [1, nsv]),
    ]);
    kname = ctx.op('Exp', [ctx.op('Mul', [d2, ctx.constD([-gamma], [])])]);
  } else {
    // gamma folded into the constant: onnxruntime fuses MatMul·scalar into FusedMatMul with a float32 alpha
    const scaled = ctx.op('MatMul', [
      xd.name,
      ctx.constD(
        Float64Array.from(svT, (v) => v * gamma),
        [f, nsv],
      ),
    ]);
    const lin = ctx.op('Add', [scaled, ctx.constD([coef0], [])]);
    kname = kernel === 'poly' ? ctx.op('Pow', [lin, ctx.constD([degree], [])]) : ctx.op('Tanh', [lin]);
  }
  return { name: kname, type: 'DOUBLE', cols: nsv };
}

/** SVR / NuSVR: Σ dual_coef · K(x, sv) + intercept, in float64. */
export function svr(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const km = kernelMatrix(ctx, est, x);
  const coef = toF64(arr(est, 'dual_coef_'));
  const b = toF64(arr(est, 'intercept_'));
  return ctx.affine(km, coef, 1, b);
}

/**
 * OneClassSVM: decision_function = Σ dual_coef · K(x, sv) + intercept_, score_samples = decision_function +
 * offset_, predict = 1 where the decision is > 0, else −1 (libsvm's sign rule).
 */
export function oneClassSvm(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const decision = svr(ctx, est, x);
  const score = ctx.op('Add', [decision.name, ctx.constD([toF64(arr(est, 'offset_'))[0]!], [])]);
  const inlier = ctx.op('Greater', [decision.name, ctx.constD([0], [])]);
  const label = ctx.op('Where', [inlier, ctx.constI([1], []), ctx.constI([-1], [])]);
  return {
    predict: { name: label, type: 'INT64', cols: 1 },
    decision_function: decision,
    score_samples: { name: score, type: 'DOUBLE', cols: 1 },
  };
}
