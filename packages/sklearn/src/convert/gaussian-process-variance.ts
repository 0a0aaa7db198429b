/**
 * Posterior variance pieces shared by GaussianProcessRegressor's `predict_std` and GaussianProcessClassifier: the
 * kernel's diagonal k(x, x) and the quadratic form ‖L⁻¹ k*‖² through a constant (L⁻¹)ᵀ computed at load.
 */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { NdArray, PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { num, obj } from './state.js';

/**
 * Past this many training rows the posterior variance is not built: (L⁻¹)ᵀ is an [m, m] float64 constant (32 MiB at
 * 2048 rows, computed at load in O(m³)).
 */
export const MAX_VARIANCE_TRAINING_ROWS = 2048;

/** c · v: a per-row value [N, 1] in the graph (absent: 1) times a constant. */
interface DiagValue {
  name?: string;
  c: number;
}

function materialize(ctx: ConvertContext, v: DiagValue): string | undefined {
  if (v.name === undefined || v.c === 1) return v.name;
  return ctx.op('Mul', [v.name, ctx.constD([v.c], [])]);
}

/** k(x, x) for each input row of one (possibly composite) fitted kernel, as sklearn's `kernel_.diag(X)`. */
function diagonal(ctx: ConvertContext, k: PyObject, x: Var): DiagValue {
  switch (k.name) {
    case 'Sum': {
      const a = diagonal(ctx, obj(k, 'k1'), x);
      const b = diagonal(ctx, obj(k, 'k2'), x);
      if (a.name === undefined && b.name === undefined) return { c: a.c + b.c };
      const ma = materialize(ctx, a) ?? ctx.constD([a.c], []);
      const mb = materialize(ctx, b) ?? ctx.constD([b.c], []);
      return { name: ctx.op('Add', [ma, mb]), c: 1 };
    }
    case 'Product': {
      const a = diagonal(ctx, obj(k, 'k1'), x);
      const b = diagonal(ctx, obj(k, 'k2'), x);
      if (a.name !== undefined && b.name !== undefined) return { name: ctx.op('Mul', [a.name, b.name]), c: a.c * b.c };
      const name = a.name ?? b.name;
      return name === undefined ? { c: a.c * b.c } : { name, c: a.c * b.c };
    }
    case 'Exponentiation': {
      const base = diagonal(ctx, obj(k, 'kernel'), x);
      const e = num(k, 'exponent');
      return base.name === undefined
        ? { c: base.c ** e }
        : { name: ctx.op('Pow', [base.name, ctx.constD([e], [])]), c: base.c ** e };
    }
    case 'ConstantKernel':
      return { c: num(k, 'constant_value') };
    case 'WhiteKernel':
      return { c: num(k, 'noise_level') };
    case 'RBF':
    case 'Matern':
    case 'RationalQuadratic':
    case 'ExpSineSquared':
      return { c: 1 };
    case 'DotProduct': {
      const s0 = num(k, 'sigma_0');
      const sq = ctx.op('ReduceSum', [ctx.op('Mul', [x.name, x.name]), ctx.constI([1])], {
        keepdims: { kind: 'i', value: 1 },
      });
      return { name: ctx.op('Add', [sq, ctx.constD([s0 ** 2], [])]), c: 1 };
    }
    default:
      throw new UnsupportedEstimatorError(`Gaussian process kernel ${k.name} is not supported`);
  }
}

/** k(x, x) [N, 1] (or a scalar constant) as a graph value. */
export function kernelDiagonal(ctx: ConvertContext, k: PyObject, x: Var): string {
  const d = diagonal(ctx, k, x);
  return materialize(ctx, d) ?? ctx.constD([d.c], [1, 1]);
}

/** The fitted lower Cholesky factor L_ [m, m], checked: square, of the training size, lower triangular, finite. */
export function choleskyFactor(owner: string, l: NdArray, data: Float64Array, m: number): Float64Array {
  if (l.shape.length !== 2 || l.shape[0] !== m || l.shape[1] !== m) {
    throw new UnsupportedEstimatorError(`${owner} L_ must be [${m}, ${m}] (one row per training row)`);
  }
  for (let i = 0; i < m; i++) {
    if (!(data[i * m + i]! > 0) || !Number.isFinite(data[i * m + i]!)) {
      throw new UnsupportedEstimatorError(`${owner} L_ is not a Cholesky factor (its diagonal must be positive)`);
    }
    for (let j = 0; j < m; j++) {
      const v = data[i * m + j]!;
      if (!Number.isFinite(v)) throw new UnsupportedEstimatorError(`${owner} L_ holds a non-finite value`);
      if (j > i && v !== 0) throw new UnsupportedEstimatorError(`${owner} L_ is not lower triangular`);
    }
  }
  return data;
}

/**
 * (L⁻¹)ᵀ [m, m] row-major, with row i scaled by rowScale[i] (and `c`): k*·(diag(s) (L⁻¹)ᵀ) is (L⁻¹ (s ⊙ k*ᵀ))ᵀ, the
 * `V` of sklearn's solve_triangular / solve.
 */
export function scaledInverseTranspose(l: Float64Array, m: number, c: number, rowScale?: Float64Array): Float64Array {
  // forward substitution, column by column: L · inv[:, j] = e_j
  const inv = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    for (let i = j; i < m; i++) {
      let s = i === j ? 1 : 0;
      for (let k = j; k < i; k++) s -= l[i * m + k]! * inv[k * m + j]!;
      inv[i * m + j] = s / l[i * m + i]!;
    }
  }
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const scale = c * (rowScale ? rowScale[i]! : 1);
    for (let j = 0; j < m; j++) out[i * m + j] = inv[j * m + i]! * scale;
  }
  return out;
}

/** k(x, x) − ‖V row‖² [N, 1]: V = kmat · w (w from `scaledInverseTranspose`). */
export function posteriorVariance(ctx: ConvertContext, kmat: string, w: Float64Array, m: number, diag: string): string {
  const v = ctx.op('MatMul', [kmat, ctx.constD(w, [m, m])]);
  const q = ctx.op('ReduceSum', [ctx.op('Mul', [v, v]), ctx.constI([1])], { keepdims: { kind: 'i', value: 1 } });
  return ctx.op('Sub', [diag, q]);
}
