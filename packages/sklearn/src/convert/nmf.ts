/**
 * NMF.transform (solver='cd'): scikit-learn's coordinate descent on W with H = components_ fixed, as an ONNX Loop
 * of at most max_iter trips whose body is one sweep over the components. Like scikit-learn, the stopping test sums
 * over the whole batch: the graph answers what `model.transform(rows)` gives for the rows of one request
 * (servekit's dynamic batching, off by default, would merge requests into one batch).
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { rowGram, transpose } from './linalg.js';
import { filled } from './math.js';
import { nmfMultiplicative } from './nmf-multiplicative.js';
import { arr, bool, get, num, str, toF64 } from './state.js';

/**
 * Most components: the Loop body holds one coordinate-descent sweep, about 13 nodes per component; onnxruntime
 * creates the session for 100 components in 0.3 to 0.5 s (bench/nmf-loop-load.mjs).
 */
const MAX_COMPONENTS = 200;

/** NMF (solver 'cd', shuffle=False; 'mu' in nmf-multiplicative.ts): W from zeros, ≤ max_iter sweeps of _update_cdnmf_fast, stopped as sklearn does. */
export function nmf(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const solver = str(est, 'solver', 'cd');
  if (solver === 'mu') return nmfMultiplicative(ctx, est, x);
  if (solver !== 'cd') throw new UnsupportedEstimatorError(`NMF(solver='${solver}') is not supported (cd, mu are)`);
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
  if (!(Number.isInteger(maxIter) && maxIter >= 1))
    throw new UnsupportedEstimatorError(`NMF with max_iter=${maxIter} is not supported (a positive integer only)`);
  if (k > MAX_COMPONENTS) {
    throw new UnsupportedEstimatorError(
      `NMF with ${k} components is not supported: its transform's coordinate-descent sweep is built into the graph, and at most ${MAX_COMPONENTS} components keep the model quick to load`,
    );
  }
  const h = toF64(comp);
  const alphaW = num(est, 'alpha_W', 0);
  const l1Ratio = num(est, 'l1_ratio', 0);
  const l1 = f * alphaW * l1Ratio;
  const l2 = f * alphaW * (1 - l1Ratio);
  // HHt = H·Hᵀ (+ l2 on the diagonal), XHt = X·Hᵀ (− l1)
  const hht = rowGram(h, k, f);
  if (l2 !== 0) for (let a = 0; a < k; a++) hht[a * k + a]! += l2;
  const ht = transpose(h, k, f);
  const c = (v: number): string => ctx.constD([v], []);
  const xd = ctx.cast(x, 'DOUBLE');
  let xht = ctx.op('MatMul', [xd.name, ctx.constD(ht, [f, k])]);
  if (l1 !== 0) xht = ctx.op('Sub', [xht, c(l1)]);
  const negXht = Array.from({ length: k }, (_, t) =>
    ctx.op('Neg', [ctx.op('Slice', [xht, ctx.constI([t]), ctx.constI([t + 1]), ctx.constI([1])])]),
  );
  const w0 = filled(ctx, xd, 1, 0).name;
  // Loop(M = max_iter, cond = true, violation_init, W columns…): one sweep per trip, stopping as scikit-learn stops.
  const g = ctx.g;
  const body = g.subgraph('nmf_cd_sweep');
  const iter = body.input(g.uniqueName('iter'), 'INT64', []);
  body.input(g.uniqueName('cond_in'), 'BOOL', []);
  const initIn = body.input(g.uniqueName('violation_init_in'), 'DOUBLE', []);
  const w = Array.from({ length: k }, () => body.input(g.uniqueName('w_in'), 'DOUBLE', ['N', 1]));
  const op = (type: string, inputs: string[], attributes: Parameters<typeof body.node>[3] = {}): string =>
    body.node(type, inputs, 1, attributes)[0]!;
  const zero = c(0);
  let violation = zero;
  for (let t = 0; t < k; t++) {
    // grad = −XHt[:, t] + W · HHt[t, :]ᵀ, with W's columns as they stand (those before t already updated)
    const row = ctx.constD(hht.subarray(t * k, (t + 1) * k), [k, 1]);
    const grad = op('Add', [negXht[t]!, op('MatMul', [k === 1 ? w[0]! : op('Concat', w, { axis: attr.i(1) }), row])]);
    const pg = op('Where', [op('Equal', [w[t]!, zero]), op('Min', [zero, grad]), grad]);
    violation = op('Add', [violation, op('ReduceSum', [op('Abs', [pg])], { keepdims: attr.i(0) })]);
    const hess = hht[t * k + t]!;
    if (hess !== 0) w[t] = op('Max', [op('Sub', [w[t]!, op('Div', [grad, c(hess)])]), zero]);
  }
  // violation_init is the first sweep's violation; go on while it is not 0 and violation / violation_init > tol
  const initOut = op('Where', [op('Equal', [iter, ctx.constI([0], [])]), violation, initIn]);
  const stop = op('Or', [op('Equal', [initOut, zero]), op('LessOrEqual', [op('Div', [violation, initOut]), c(tol)])]);
  const outs = [op('Not', [stop]), op('Identity', [initOut]), ...w.map((v) => op('Identity', [v]))];
  body.output(outs[0]!, 'BOOL', []);
  body.output(outs[1]!, 'DOUBLE', []);
  for (const o of outs.slice(2)) body.output(o, 'DOUBLE', ['N', 1]);
  const trips = ctx.constI([maxIter], []);
  const start = ctx.const('BOOL', [], [1]);
  const loopOut = g.node('Loop', [trips, start, zero, ...Array.from({ length: k }, () => w0)], k + 1, {
    body: attr.g(body),
  });
  return ctx.concat(loopOut.slice(1).map((name) => ({ name, type: 'DOUBLE' as const, cols: 1 })));
}
