/**
 * GaussianMixture and BayesianGaussianMixture (full, tied, diag, spherical): predict, predict_proba and
 * score_samples.
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { NdArray, PyObject } from '../pickle/py-types.js';
import type { ConvertContext, MethodOutputs, Var } from './context.js';
import { dbl } from './math.js';
import { expNormalize } from './naive-bayes.js';
import { arr, list, str, toF64 } from './state.js';

/** Per-component Mahalanobis terms [N, K] as sklearn's _estimate_log_gaussian_prob computes them. */
function logProb(
  ctx: ConvertContext,
  est: PyObject,
  x: Var,
  k: number,
  f: number,
): { lp: string; logDet: Float64Array } {
  const type = str(est, 'covariance_type', 'full');
  const mu = toF64(arr(est, 'means_'));
  const pc = toF64(arr(est, 'precisions_cholesky_'));
  const logDet = new Float64Array(k);
  const keep = { keepdims: attr.i(1) };
  if (type === 'full' || type === 'tied') {
    const cols: string[] = [];
    for (let c = 0; c < k; c++) {
      const p = type === 'full' ? pc.subarray(c * f * f, (c + 1) * f * f) : pc;
      let ld = 0;
      for (let i = 0; i < f; i++) ld += Math.log(p[i * f + i]!);
      logDet[c] = ld;
      const muP = new Float64Array(f);
      for (let j = 0; j < f; j++) for (let i = 0; i < f; i++) muP[j]! += mu[c * f + i]! * p[i * f + j]!;
      const y = ctx.op('Sub', [ctx.op('MatMul', [x.name, ctx.constD(p, [f, f])]), ctx.constD(muP, [1, f])]);
      cols.push(ctx.op('ReduceSumSquare', [y, ctx.constI([1])], keep));
    }
    return { lp: ctx.op('Concat', cols, { axis: attr.i(1) }), logDet };
  }
  if (type === 'diag') {
    const prec = Float64Array.from(pc, (v) => v * v);
    const a = new Float64Array(k);
    const mp = new Float64Array(f * k); // [F, K] of means·prec
    for (let c = 0; c < k; c++) {
      let ld = 0;
      for (let j = 0; j < f; j++) {
        a[c]! += mu[c * f + j]! ** 2 * prec[c * f + j]!;
        mp[j * k + c] = mu[c * f + j]! * prec[c * f + j]!;
        ld += Math.log(pc[c * f + j]!);
      }
      logDet[c] = ld;
    }
    const precT = new Float64Array(f * k);
    for (let c = 0; c < k; c++) for (let j = 0; j < f; j++) precT[j * k + c] = prec[c * f + j]!;
    const cross = ctx.op('Mul', [ctx.op('MatMul', [x.name, ctx.constD(mp, [f, k])]), ctx.constD([2], [])]);
    const sq = ctx.op('MatMul', [ctx.op('Mul', [x.name, x.name]), ctx.constD(precT, [f, k])]);
    return { lp: ctx.op('Add', [ctx.op('Sub', [ctx.constD(a, [1, k]), cross]), sq]), logDet };
  }
  if (type === 'spherical') {
    const prec = Float64Array.from(pc, (v) => v * v);
    const a = new Float64Array(k);
    const mT = new Float64Array(f * k);
    for (let c = 0; c < k; c++) {
      let m2 = 0;
      for (let j = 0; j < f; j++) {
        m2 += mu[c * f + j]! ** 2;
        mT[j * k + c] = mu[c * f + j]!;
      }
      a[c] = m2 * prec[c]!;
      logDet[c] = f * Math.log(pc[c]!);
    }
    const cross = ctx.op('Mul', [
      ctx.op('Mul', [ctx.op('MatMul', [x.name, ctx.constD(mT, [f, k])]), ctx.constD([2], [])]),
      ctx.constD(prec, [1, k]),
    ]);
    const norms = ctx.op('ReduceSumSquare', [x.name, ctx.constI([1])], keep);
    const outer = ctx.op('Mul', [norms, ctx.constD(prec, [1, k])]);
    return { lp: ctx.op('Add', [ctx.op('Sub', [ctx.constD(a, [1, k]), cross]), outer]), logDet };
  }
  throw new UnsupportedEstimatorError(`GaussianMixture covariance_type '${type}' is not supported`);
}

/** GaussianMixture: weighted log-probabilities → argmax, exp(· − logsumexp), logsumexp. */
export function gaussianMixture(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const weights = toF64(arr(est, 'weights_'));
  return mixtureOutputs(ctx, est, x, Float64Array.from(weights, Math.log));
}

/**
 * BayesianGaussianMixture: the same with sklearn's variational terms per component: E[log weight] from
 * weight_concentration_ (dirichlet_process or dirichlet_distribution), −½·F·log(dof) and ½·(log Λ − F/mean_precision).
 */
export function bayesianGaussianMixture(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const [k, f] = arr(est, 'means_').shape as [number, number];
  const perComponent = (key: string): Float64Array => {
    const v = toF64(arr(est, key));
    return v.length === 1 ? new Float64Array(k).fill(v[0]!) : v; // tied: one degrees_of_freedom_ for all
  };
  const dof = perComponent('degrees_of_freedom_');
  const meanPrecision = perComponent('mean_precision_');
  const conc = list(est, 'weight_concentration_');
  let logWeights: Float64Array;
  if (str(est, 'weight_concentration_prior_type', 'dirichlet_process') === 'dirichlet_process') {
    const [a, b] = conc.map((v) => toF64(v as NdArray));
    if (!a || !b) throw new UnsupportedEstimatorError('BayesianGaussianMixture weight_concentration_ is not a pair');
    logWeights = new Float64Array(k);
    let acc = 0;
    for (let c = 0; c < k; c++) {
      const dSum = digamma(a[c]! + b[c]!);
      logWeights[c] = digamma(a[c]!) - dSum + acc;
      acc += digamma(b[c]!) - dSum;
    }
  } else {
    const w = toF64(arr(est, 'weight_concentration_'));
    const dTotal = digamma(w.reduce((s, v) => s + v, 0));
    logWeights = Float64Array.from(w, (v) => digamma(v) - dTotal);
  }
  const bias = Float64Array.from({ length: k }, (_, c) => {
    let logLambda = f * Math.log(2);
    for (let j = 0; j < f; j++) logLambda += digamma(0.5 * (dof[c]! - j));
    return logWeights[c]! - 0.5 * f * Math.log(dof[c]!) + 0.5 * (logLambda - f / meanPrecision[c]!);
  });
  return mixtureOutputs(ctx, est, x, bias);
}

/** ψ(x) for x > 0: recurrence up to 10, then the asymptotic series (about 1e-15 relative). */
function digamma(x: number): number {
  let r = 0;
  let v = x;
  while (v < 10) {
    r -= 1 / v;
    v += 1;
  }
  const i2 = 1 / (v * v);
  const series = i2 * (1 / 12 - i2 * (1 / 120 - i2 * (1 / 252 - i2 * (1 / 240 - i2 * (1 / 132)))));
  return r + Math.log(v) - 0.5 / v - series;
}

/** Log-probabilities plus a per-component bias → predict, predict_proba, score_samples. */
function mixtureOutputs(ctx: ConvertContext, est: PyObject, x: Var, componentBias: Float64Array): MethodOutputs {
  const means = arr(est, 'means_');
  const [k, f] = means.shape as [number, number];
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`${est.name} expects ${f} features but its input has ${x.cols}`);
  const xd = ctx.cast(x, 'DOUBLE');
  const { lp, logDet } = logProb(ctx, est, xd, k, f);
  const bias = Float64Array.from(logDet, (ld, c) => ld + componentBias[c]!);
  const gauss = ctx.op('Mul', [
    ctx.op('Add', [lp, ctx.constD([f * Math.log(2 * Math.PI)], [])]),
    ctx.constD([-0.5], []),
  ]);
  const wlp = dbl(ctx.op('Add', [gauss, ctx.constD(bias, [1, k])]), k);
  const keep = { keepdims: attr.i(1) };
  const m = ctx.op('ReduceMax', [wlp.name, ctx.constI([1])], keep);
  const s = ctx.op('ReduceSum', [ctx.op('Exp', [ctx.op('Sub', [wlp.name, m])]), ctx.constI([1])], keep);
  return {
    predict: { name: ctx.op('ArgMax', [wlp.name], { axis: attr.i(1), keepdims: attr.i(1) }), type: 'INT64', cols: 1 },
    predict_proba: expNormalize(ctx, wlp),
    score_samples: dbl(ctx.op('Add', [m, ctx.op('Log', [s])]), 1),
  };
}
