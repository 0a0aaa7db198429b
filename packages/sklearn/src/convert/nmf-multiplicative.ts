/**
 * NMF(solver='mu').transform and MiniBatchNMF.transform: scikit-learn's multiplicative updates of W with
 * H = components_ fixed, as an ONNX Loop of one update per trip (beta_loss 'frobenius' or 'kullback-leibler').
 * Both start from W = sqrt(mean(X) / n_components) over the whole batch and stop on a test summed over the batch,
 * as scikit-learn does: the graph answers what `model.transform(rows)` gives for the rows of one request.
 * - NMF: every 10th update, stop when (previous error − error) / initial error < tol (beta-divergence errors);
 * - MiniBatchNMF (`_solve_W`): stop when ‖W − W_before‖ / ‖W‖ ≤ tol, after at most `_transform_max_iter` updates.
 */
import { type Attr, attr, type GraphBuilder } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { rowGram, transpose } from './linalg.js';
import { filled } from './math.js';
import { arr, get, num, toF64 } from './state.js';

/** scikit-learn's EPSILON in _nmf.py: float32 machine epsilon. */
const EPSILON = 1.1920928955078125e-7;

/** beta_loss as a number (2 frobenius, 1 kullback-leibler); others are refused. */
function betaLoss(est: PyObject): 1 | 2 {
  const raw = get(est, '_beta_loss') ?? get(est, 'beta_loss') ?? 'frobenius';
  const beta = raw === 'frobenius' ? 2 : raw === 'kullback-leibler' ? 1 : raw === 'itakura-saito' ? 0 : raw;
  if (beta === 2 || beta === 1) return beta;
  throw new UnsupportedEstimatorError(
    `${est.name} with beta_loss=${JSON.stringify(typeof beta === 'bigint' ? Number(beta) : beta)} is not supported (frobenius and kullback-leibler are)`,
  );
}

/** Adds nodes to one graph (the model's, or the Loop body's) and names constants in the model's. */
type Emit = (type: string, inputs: string[], attributes?: Record<string, Attr>) => string;
const emitter =
  (g: GraphBuilder): Emit =>
  (type, inputs, attributes = {}) =>
    g.node(type, inputs, 1, attributes)[0]!;

/** The fixed parts of the updates: X, H, Hᵀ, H·Hᵀ, X·Hᵀ, Σ_j H (as a row and a column), the regularization. */
interface Fixed {
  beta: 1 | 2;
  x: string;
  h: string;
  ht: string;
  hht: string;
  xht: string;
  /** [1, k] Σ_j H[c, j]: the KL denominator before regularization. */
  hSumRow: string;
  /** [k, 1] the same, for Σ WH = Σ_c (Σ_i W[i, c]) (Σ_j H[c, j]). */
  hSumCol: string;
  axis0: string;
  l1: number;
  l2: number;
  c: (v: number) => string;
}

/**
 * One `_multiplicative_update_w` (gamma 1): W · numerator / denominator. For KL the denominator starts from
 * `hSum`, the row Σ_j H with l1 already added (see klDenominatorRow).
 */
function updateW(op: Emit, f: Fixed, w: string, hSum: string): string {
  let numerator: string;
  let denominator: string;
  if (f.beta === 2) {
    numerator = f.xht;
    denominator = op('MatMul', [w, f.hht]);
    if (f.l1 > 0) denominator = op('Add', [denominator, f.c(f.l1)]);
  } else {
    const wh = op('MatMul', [w, f.h]);
    const safe = op('Where', [op('Equal', [wh, f.c(0)]), f.c(EPSILON), wh]);
    numerator = op('MatMul', [op('Div', [f.x, safe]), f.ht]);
    denominator = hSum;
  }
  if (f.l2 > 0) denominator = op('Add', [denominator, op('Mul', [w, f.c(f.l2)])]);
  denominator = op('Where', [op('Equal', [denominator, f.c(0)]), f.c(EPSILON), denominator]);
  return op('Mul', [w, op('Div', [numerator, denominator])]);
}

/**
 * The KL denominator row of one update from the row `hSum` the solver holds: `hSum + l1`. scikit-learn adds l1 in
 * place (`denominator += l1_reg_W` on a view of H_sum), and without l2 also sets its zeros to EPSILON in place:
 * `kept` is the row NMF's solver holds for the next update (MiniBatchNMF recomputes H_sum every update instead).
 */
function klDenominatorRow(op: Emit, f: Fixed, hSum: string): { row: string; kept: string } {
  const row = f.l1 > 0 ? op('Add', [hSum, f.c(f.l1)]) : hSum;
  const kept = f.l2 > 0 ? row : op('Where', [op('Equal', [row, f.c(0)]), f.c(EPSILON), row]);
  return { row, kept };
}

/** `_beta_divergence(X, W, H, beta, square_root=True)`, a scalar. */
function divergence(op: Emit, f: Fixed, w: string): string {
  const wh = op('MatMul', [w, f.h]);
  const sum = (v: string): string => op('ReduceSum', [v], { keepdims: attr.i(0) });
  let res: string;
  if (f.beta === 2) {
    res = op('Div', [op('ReduceSumSquare', [op('Sub', [f.x, wh])], { keepdims: attr.i(0) }), f.c(2)]);
  } else {
    // where X > EPSILON only: Σ X·log(X / WH) − Σ X; plus Σ WH over every entry
    const kept = op('Greater', [f.x, f.c(EPSILON)]);
    const safeWh = op('Where', [op('Equal', [wh, f.c(0)]), f.c(EPSILON), wh]);
    const safeX = op('Where', [kept, f.x, f.c(1)]);
    const xLog = op('Where', [kept, op('Mul', [f.x, op('Log', [op('Div', [safeX, safeWh])])]), f.c(0)]);
    const xKept = op('Where', [kept, f.x, f.c(0)]);
    const wSum = op('ReduceSum', [w, f.axis0], { keepdims: attr.i(1) });
    const sumWh = sum(op('MatMul', [wSum, f.hSumCol]));
    res = op('Max', [op('Sub', [op('Add', [sum(xLog), sumWh]), sum(xKept)]), f.c(0)]);
  }
  return op('Sqrt', [op('Mul', [res, f.c(2)])]);
}

/** Components, features, max_iter and the fixed tensors of an NMF / MiniBatchNMF and its input. */
function prepare(
  ctx: ConvertContext,
  est: PyObject,
  x: Var,
  maxIterKey: string,
): { f: Fixed; k: number; maxIter: number; tol: number } {
  const beta = betaLoss(est);
  const comp = arr(est, 'components_');
  if (comp.shape.length !== 2) throw new UnsupportedEstimatorError(`${est.name}.components_ must be a 2-D array`);
  const [k, nf] = comp.shape as [number, number];
  if (nf !== x.cols)
    throw new UnsupportedEstimatorError(`${est.name} expects ${nf} features but its input has ${x.cols}`);
  const maxIter = num(est, maxIterKey, 200);
  if (!(Number.isInteger(maxIter) && maxIter >= 1))
    throw new UnsupportedEstimatorError(
      `${est.name} with ${maxIterKey}=${maxIter} is not supported (a positive integer only)`,
    );
  const tol = num(est, 'tol', 1e-4);
  const alphaW = num(est, 'alpha_W', 0);
  const l1Ratio = num(est, 'l1_ratio', 0);
  const h = toF64(comp);
  const ht = transpose(h, k, nf);
  const hht = rowGram(h, k, nf);
  const hSum = new Float64Array(k);
  for (let a = 0; a < k; a++) for (let j = 0; j < nf; j++) hSum[a]! += h[a * nf + j]!;
  const xd = ctx.cast(x, 'DOUBLE').name;
  const htName = ctx.constD(ht, [nf, k]);
  const f: Fixed = {
    beta,
    x: xd,
    h: ctx.constD(h, [k, nf]),
    ht: htName,
    hht: ctx.constD(hht, [k, k]),
    xht: ctx.op('MatMul', [xd, htName]),
    hSumRow: ctx.constD(hSum, [1, k]),
    hSumCol: ctx.constD(hSum, [k, 1]),
    axis0: ctx.constI([0]),
    l1: nf * alphaW * l1Ratio,
    l2: nf * alphaW * (1 - l1Ratio),
    c: (v) => ctx.constD([v], []),
  };
  return { f, k, maxIter, tol };
}

/** W's start: every entry sqrt(mean(X) / n_components), the mean over the whole batch. */
function startW(ctx: ConvertContext, f: Fixed, x: Var, k: number): string {
  const avg = ctx.op('Sqrt', [ctx.op('Div', [ctx.op('ReduceMean', [f.x], { keepdims: attr.i(0) }), f.c(k)])]);
  return ctx.op('Mul', [filled(ctx, x, k, 1).name, avg]);
}

/** A Loop of at most `maxIter` trips over (W, extra state…); `body` gives the next state and the stop flag. */
function loop(
  ctx: ConvertContext,
  name: string,
  maxIter: number,
  k: number,
  init: { w: string; scalars: string[]; rows: string[] },
  body: (
    op: Emit,
    iter: string,
    w: string,
    scalars: string[],
    rows: string[],
  ) => { w: string; scalars: string[]; rows: string[]; stop: string },
): string {
  const g = ctx.g;
  const sub = g.subgraph(name);
  const iter = sub.input(g.uniqueName('iter'), 'INT64', []);
  sub.input(g.uniqueName('cond_in'), 'BOOL', []);
  const w = sub.input(g.uniqueName('w_in'), 'DOUBLE', ['N', k]);
  const scalars = init.scalars.map(() => sub.input(g.uniqueName('s_in'), 'DOUBLE', []));
  const rows = init.rows.map(() => sub.input(g.uniqueName('r_in'), 'DOUBLE', [1, k]));
  const op = emitter(sub);
  const next = body(op, iter, w, scalars, rows);
  sub.output(op('Not', [next.stop]), 'BOOL', []);
  sub.output(op('Identity', [next.w]), 'DOUBLE', ['N', k]);
  for (const s of next.scalars) sub.output(op('Identity', [s]), 'DOUBLE', []);
  for (const r of next.rows) sub.output(op('Identity', [r]), 'DOUBLE', [1, k]);
  const outs = g.node(
    'Loop',
    [ctx.constI([maxIter], []), ctx.const('BOOL', [], [1]), init.w, ...init.scalars, ...init.rows],
    1 + init.scalars.length + init.rows.length,
    { body: attr.g(sub) },
  );
  return outs[0]!;
}

/** NMF(solver='mu').transform: ≤ max_iter updates, the error test every 10th, as _fit_multiplicative_update. */
export function nmfMultiplicative(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const { f, k, maxIter, tol } = prepare(ctx, est, x, 'max_iter');
  const w0 = startW(ctx, f, x, k);
  const errorAtInit = divergence(emitter(ctx.g), f, w0);
  const w = loop(
    ctx,
    'nmf_mu_update',
    maxIter,
    k,
    { w: w0, scalars: [errorAtInit], rows: [f.hSumRow] },
    (op, iter, wIn, [previous], [hSumIn]) => {
      // the KL denominator row is computed once, then changed in place by each update (klDenominatorRow)
      const kl = klDenominatorRow(op, f, hSumIn!);
      const wOut = updateW(op, f, wIn, kl.row);
      const hSumOut = f.beta === 1 ? kl.kept : hSumIn!;
      if (!(tol > 0))
        return { w: wOut, scalars: [previous!], rows: [hSumOut], stop: op('Identity', [ctx.const('BOOL', [], [0])]) };
      const nIter = op('Add', [iter, ctx.constI([1], [])]);
      const tenth = op('Equal', [op('Mod', [nIter, ctx.constI([10], [])]), ctx.constI([0], [])]);
      const error = divergence(op, f, wOut);
      const converged = op('Less', [op('Div', [op('Sub', [previous!, error]), errorAtInit]), f.c(tol)]);
      return {
        w: wOut,
        scalars: [op('Where', [tenth, error, previous!])],
        rows: [hSumOut],
        stop: op('And', [tenth, converged]),
      };
    },
  );
  return { name: w, type: 'DOUBLE', cols: k };
}

/** MiniBatchNMF.transform (`_solve_W`): ≤ _transform_max_iter updates, stopping when ‖ΔW‖ / ‖W‖ ≤ tol. */
export function miniBatchNmf(ctx: ConvertContext, est: PyObject, x: Var): Var {
  // _transform_max_iter is transform_max_iter, or max_iter when that is None (set at fit)
  const key = get(est, '_transform_max_iter') !== undefined ? '_transform_max_iter' : 'max_iter';
  const { f, k, maxIter, tol } = prepare(ctx, est, x, key);
  const w0 = startW(ctx, f, x, k);
  // _solve_W computes the KL denominator row afresh each update: l1 is added once
  const hSum = klDenominatorRow(emitter(ctx.g), f, f.hSumRow).row;
  const w = loop(ctx, 'minibatch_nmf_update', maxIter, k, { w: w0, scalars: [], rows: [] }, (op, _iter, wIn) => {
    const wOut = updateW(op, f, wIn, hSum);
    if (!(tol > 0)) return { w: wOut, scalars: [], rows: [], stop: op('Identity', [ctx.const('BOOL', [], [0])]) };
    const norm = (v: string): string => op('Sqrt', [op('ReduceSumSquare', [v], { keepdims: attr.i(0) })]);
    const diff = op('Div', [norm(op('Sub', [wOut, wIn])), norm(wOut)]);
    return { w: wOut, scalars: [], rows: [], stop: op('LessOrEqual', [diff, f.c(tol)]) };
  });
  return { name: w, type: 'DOUBLE', cols: k };
}
