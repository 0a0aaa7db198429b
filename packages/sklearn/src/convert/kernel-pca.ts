/** KernelPCA.transform: the centered kernel between X and X_fit_, projected on eigenvectors_ / √eigenvalues_. */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { transpose } from './linalg.js';
import { dbl } from './math.js';
import { squaredDistances } from './pairwise.js';
import { arr, get, num, obj, toF64 } from './state.js';

/** The kernels KernelPCA may name that the converter builds (a callable kernel is refused). */
const KERNELS = ['linear', 'rbf', 'poly', 'sigmoid', 'cosine'] as const;

/** Rows of X scaled to unit L2 norm (zero rows kept), as sklearn's normalize(). */
function normalizeRows(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += values[i * cols + j]! ** 2;
    const n = Math.sqrt(s) || 1;
    for (let j = 0; j < cols; j++) out[i * cols + j] = values[i * cols + j]! / n;
  }
  return out;
}

/** The kernel's name, refusing callables and kernels the converter does not build. */
function kernelName(est: PyObject): (typeof KERNELS)[number] {
  const name = get(est, 'kernel');
  if (typeof name !== 'string' || !(KERNELS as readonly string[]).includes(name)) {
    const what = typeof name === 'string' ? `'${name}'` : 'a callable';
    throw new UnsupportedEstimatorError(`KernelPCA with kernel=${what} is not supported (${KERNELS.join(', ')} only)`);
  }
  return name as (typeof KERNELS)[number];
}

/** pairwise_kernels(X, X_fit_) with KernelPCA's gamma / degree / coef0, as sklearn computes each kernel: [N, M]. */
function kernel(ctx: ConvertContext, est: PyObject, x: Var, fit: Float64Array, m: number): string {
  const name = kernelName(est);
  const f = x.cols;
  const gamma = num(est, 'gamma', 1 / f);
  const dot = (a: string, b: Float64Array, scale = 1): string =>
    ctx.op('MatMul', [
      a,
      ctx.constD(
        Float64Array.from(transpose(b, m, f), (v) => v * scale),
        [f, m],
      ),
    ]);
  if (name === 'linear') return dot(x.name, fit);
  if (name === 'cosine') {
    const norm = ctx.op('Sqrt', [ctx.op('ReduceSumSquare', [x.name, ctx.constI([1])], { keepdims: attr.i(1) })]);
    const safe = ctx.op('Where', [ctx.op('Equal', [norm, ctx.constD([0], [])]), ctx.constD([1], []), norm]);
    return dot(ctx.op('Div', [x.name, safe]), normalizeRows(fit, m, f));
  }
  if (name === 'rbf') {
    const d = squaredDistances(ctx, x, fit, m);
    return ctx.op('Exp', [ctx.op('Mul', [d, ctx.constD([-gamma], [])])]);
  }
  const coef0 = num(est, 'coef0', 1);
  // γ goes into the constant: onnxruntime fuses MatMul·scalar into FusedMatMul with a float32 alpha
  const k = ctx.op('Add', [dot(x.name, fit, gamma), ctx.constD([coef0], [])]);
  if (name === 'sigmoid') return ctx.op('Tanh', [k]);
  return ctx.op('Pow', [k, ctx.constD([num(est, 'degree', 3)], [])]);
}

/** KernelPCA.transform (kernels linear, rbf, poly, sigmoid, cosine; float64). */
export function kernelPca(ctx: ConvertContext, est: PyObject, x: Var): Var {
  kernelName(est);
  const fitArr = arr(est, 'X_fit_');
  if (fitArr.shape.length !== 2) throw new UnsupportedEstimatorError('KernelPCA.X_fit_ must be a 2-D array');
  const [m, f] = fitArr.shape as [number, number];
  if (f !== x.cols) throw new UnsupportedEstimatorError(`KernelPCA expects ${f} features but its input has ${x.cols}`);
  const xd = ctx.cast(x, 'DOUBLE');
  const k = kernel(ctx, est, xd, toF64(fitArr), m);
  // KernelCenterer.transform: K − K_fit_rows_ − mean of each row of K + K_fit_all_
  const centerer = obj(est, '_centerer');
  const rows = toF64(arr(centerer, 'K_fit_rows_'));
  if (rows.length !== m) throw new UnsupportedEstimatorError('KernelPCA._centerer does not match X_fit_');
  const predCols = ctx.op('Div', [
    ctx.op('ReduceSum', [k, ctx.constI([1])], { keepdims: attr.i(1) }),
    ctx.constD([m], []),
  ]);
  let kc = ctx.op('Sub', [k, ctx.constD(rows, [1, m])]);
  kc = ctx.op('Sub', [kc, predCols]);
  kc = ctx.op('Add', [kc, ctx.constD([num(centerer, 'K_fit_all_')], [])]);
  // scikit-learn < 1.0 named them alphas_ and lambdas_
  const vecs = arr(est, get(est, 'eigenvectors_') === undefined ? 'alphas_' : 'eigenvectors_');
  const [vm, c] = vecs.shape as [number, number];
  if (vecs.shape.length !== 2 || vm !== m)
    throw new UnsupportedEstimatorError('KernelPCA.eigenvectors_ does not match X_fit_');
  const vals = toF64(arr(est, get(est, 'eigenvalues_') === undefined ? 'lambdas_' : 'eigenvalues_'));
  const v = toF64(vecs);
  const scaled = Float64Array.from(v, (e, i) => {
    const lambda = vals[i % c]!;
    return lambda === 0 ? 0 : e / Math.sqrt(lambda);
  });
  return dbl(ctx.op('MatMul', [kc, ctx.constD(scaled, [m, c])]), c);
}
