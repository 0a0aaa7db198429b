/**
 * NMF.transform (solver='cd'): scikit-learn's coordinate descent on W with H = components_ fixed, unrolled for
 * max_iter iterations. Like scikit-learn, the stopping test sums over the whole batch: the graph answers what
 * `model.transform(rows)` gives for the rows of one request (servekit's dynamic batching, off by default, would
 * merge requests into one batch).
 */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { filled } from './math.js';
import { arr, bool, get, num, str, toF64 } from './state.js';

/**
 * Most graph nodes the unrolled solve may take (max_iter × components × (2·components + 8)): onnxruntime's session
 * creation grows much faster than linearly with the node count (12,000 nodes take minutes), and GraphBuilder has no
 * subgraphs for an ONNX Loop yet.
 */
const MAX_NODES = 2000;

/** NMF (solver 'cd', shuffle=False): W from zeros by max_iter sweeps of _update_cdnmf_fast, stopped as scikit-learn stops. */
export function nmf(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const solver = str(est, 'solver', 'cd');
  if (solver !== 'cd') {
    throw new UnsupportedEstimatorError(
      `NMF(solver='${solver}') is not supported (solver='cd' only: 'mu' starts from the mean of the whole batch)`,
    );
  }
  if (bool(est, 'shuffle', false))
    throw new UnsupportedEstimatorError('NMF(shuffle=True) is not supported (its order comes from a random state)');
  if (get(est, 'alpha') !== undefined && get(est, 'alpha_W') === undefined)
    throw new UnsupportedEstimatorError('NMF pickled before scikit-learn 1.0 (alpha, regularization) is not supported');
  const comp = arr(est, 'components_');
  if (comp.shape.length !== 2) throw new UnsupportedEstimatorError('NMF.components_ must be a 2-D array');
  const [k, f] = comp.shape as [number, number];
  if (f !== x.cols) throw new UnsupportedEstimatorError(`NMF expects ${f} features but its input has ${x.cols}`);
  const maxIter = num(est, 'max_iter', 200);
  const tol = num(est, 'tol', 1e-4);
  if (!(Number.isInteger(maxIter) && maxIter >= 1) || maxIter * k * (2 * k + 8) > MAX_NODES) {
    throw new UnsupportedEstimatorError(
      `NMF with max_iter=${maxIter} and ${k} components is not supported: its transform is an iterative solve, unrolled in the graph, and max_iter × components × (2·components + 8) must stay within ${MAX_NODES} (set a smaller max_iter before saving)`,
    );
  }
  const h = toF64(comp);
  const alphaW = num(est, 'alpha_W', 0);
  const l1Ratio = num(est, 'l1_ratio', 0);
  const l1 = f * alphaW * l1Ratio;
  const l2 = f * alphaW * (1 - l1Ratio);
  // HHt = H·Hᵀ (+ l2 on the diagonal), XHt = X·Hᵀ (− l1)
  const hht = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let j = 0; j < f; j++) s += h[a * f + j]! * h[b * f + j]!;
      hht[a * k + b] = s + (a === b && l2 !== 0 ? l2 : 0);
    }
  const ht = new Float64Array(f * k);
  for (let a = 0; a < k; a++) for (let j = 0; j < f; j++) ht[j * k + a] = h[a * f + j]!;
  const c = (v: number): string => ctx.constD([v], []);
  const xd = ctx.cast(x, 'DOUBLE');
  let xht = ctx.op('MatMul', [xd.name, ctx.constD(ht, [f, k])]);
  if (l1 !== 0) xht = ctx.op('Sub', [xht, c(l1)]);
  const negXht = Array.from({ length: k }, (_, t) =>
    ctx.op('Neg', [ctx.op('Slice', [xht, ctx.constI([t]), ctx.constI([t + 1]), ctx.constI([1])])]),
  );
  const w = Array.from({ length: k }, () => filled(ctx, xd, 1, 0).name);
  const zero = c(0);
  let done = ctx.op('Cast', [c(0)], { to: { kind: 'i', value: 9 } });
  let violationInit = '';
  for (let iter = 1; iter <= maxIter; iter++) {
    let violation = zero;
    for (let t = 0; t < k; t++) {
      let grad = negXht[t]!;
      for (let r = 0; r < k; r++) grad = ctx.op('Add', [grad, ctx.op('Mul', [c(hht[t * k + r]!), w[r]!])]);
      const pg = ctx.op('Where', [ctx.op('Equal', [w[t]!, zero]), ctx.op('Min', [zero, grad]), grad]);
      violation = ctx.op('Add', [
        violation,
        ctx.op('ReduceSum', [ctx.op('Abs', [pg])], { keepdims: { kind: 'i', value: 0 } }),
      ]);
      const hess = hht[t * k + t]!;
      if (hess !== 0) {
        const next = ctx.op('Max', [ctx.op('Sub', [w[t]!, ctx.op('Div', [grad, c(hess)])]), zero]);
        w[t] = ctx.op('Where', [done, w[t]!, next]);
      }
    }
    if (iter === 1) violationInit = violation;
    if (iter === maxIter) break;
    const converged = ctx.op('Or', [
      ctx.op('Equal', [violationInit, zero]),
      ctx.op('LessOrEqual', [ctx.op('Div', [violation, violationInit]), c(tol)]),
    ]);
    done = ctx.op('Or', [done, converged]);
  }
  return ctx.concat(w.map((name) => ({ name, type: 'DOUBLE' as const, cols: 1 })));
}
