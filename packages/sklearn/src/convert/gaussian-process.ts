import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isPyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { filled } from './math.js';
import { perFeature } from './neighbor-distances.js';
import { arr, get, num, obj, toF64 } from './state.js';

/**
 * c · K: a kernel matrix [N, M] in the graph (absent for ConstantKernel / WhiteKernel alone) times a constant. The
 * constant stays apart until it can be folded into alpha_, because onnxruntime fuses a scalar Mul next to a MatMul
 * into FusedMatMul with a float32 alpha.
 */
export interface KernelValue {
  name?: string;
  c: number;
}

/** The training rows a kernel is taken against: the input x [N, f], X_train_ row-major [m, f]. */
export interface Train {
  x: Var;
  fit: Float64Array;
  m: number;
  f: number;
}

/** length_scale as one value per feature. */
function lengthScales(k: PyObject, f: number): Float64Array {
  const ls = toF64(arr(k, 'length_scale'));
  if (ls.length === 1) return new Float64Array(f).fill(ls[0]!);
  if (ls.length !== f)
    throw new UnsupportedEstimatorError(`${k.name} has ${ls.length} length scales for ${f} features`);
  return ls;
}

/** Squared euclidean distances [N, M] between x/ls and X_train_/ls (exact differences, as scipy's cdist). */
function sqDistances(ctx: ConvertContext, t: Train, ls: Float64Array): string {
  const { m, f } = t;
  const scaledFit = Float64Array.from(t.fit, (v, i) => v / ls[i % f]!);
  const xs: Var = { name: ctx.op('Div', [t.x.name, ctx.constD(ls, [1, f])]), type: 'DOUBLE', cols: f };
  return perFeature(ctx, xs, scaledFit, m, f, 'square');
}

/** c·K as one graph value (Mul only when c ≠ 1). */
function materialize(ctx: ConvertContext, v: KernelValue): string | undefined {
  if (v.name === undefined || v.c === 1) return v.name;
  return ctx.op('Mul', [v.name, ctx.constD([v.c], [])]);
}

function sum(ctx: ConvertContext, a: KernelValue, b: KernelValue): KernelValue {
  // + 0 (a WhiteKernel term) keeps the constant apart (onnxruntime would drop the Add and fuse the Mul)
  if (b.name === undefined && b.c === 0) return a;
  if (a.name === undefined && a.c === 0) return b;
  const ma = materialize(ctx, a);
  const mb = materialize(ctx, b);
  if (ma === undefined && mb === undefined) return { c: a.c + b.c };
  if (ma === undefined) return { name: ctx.op('Add', [mb!, ctx.constD([a.c], [])]), c: 1 };
  if (mb === undefined) return { name: ctx.op('Add', [ma, ctx.constD([b.c], [])]), c: 1 };
  return { name: ctx.op('Add', [ma, mb]), c: 1 };
}

function product(ctx: ConvertContext, a: KernelValue, b: KernelValue): KernelValue {
  const c = a.c * b.c;
  if (a.name !== undefined && b.name !== undefined) return { name: ctx.op('Mul', [a.name, b.name]), c };
  const name = a.name ?? b.name;
  return name === undefined ? { c } : { name, c };
}

const matrix = (name: string): KernelValue => ({ name, c: 1 });

/** K(x, X_train_) for one (possibly composite) fitted kernel. */
export function kernel(ctx: ConvertContext, k: PyObject, t: Train): KernelValue {
  switch (k.name) {
    case 'Sum':
      return sum(ctx, kernel(ctx, obj(k, 'k1'), t), kernel(ctx, obj(k, 'k2'), t));
    case 'Product':
      return product(ctx, kernel(ctx, obj(k, 'k1'), t), kernel(ctx, obj(k, 'k2'), t));
    case 'Exponentiation': {
      const base = kernel(ctx, obj(k, 'kernel'), t);
      const e = num(k, 'exponent');
      const c = base.c ** e;
      return base.name === undefined ? { c } : { name: ctx.op('Pow', [base.name, ctx.constD([e], [])]), c };
    }
    case 'ConstantKernel':
      return { c: num(k, 'constant_value') };
    case 'WhiteKernel':
      return { c: 0 }; // noise_level only on the diagonal of K(X, X); K(x, X_train_) is 0
    case 'RBF': {
      const d2 = sqDistances(ctx, t, lengthScales(k, t.f));
      return matrix(ctx.op('Exp', [ctx.op('Mul', [d2, ctx.constD([-0.5], [])])]));
    }
    case 'Matern': {
      const nu = num(k, 'nu');
      const d2 = sqDistances(ctx, t, lengthScales(k, t.f));
      if (nu === Number.POSITIVE_INFINITY) return matrix(ctx.op('Exp', [ctx.op('Mul', [d2, ctx.constD([-0.5], [])])]));
      const d = ctx.op('Sqrt', [d2]);
      if (nu === 0.5) return matrix(ctx.op('Exp', [ctx.op('Neg', [d])]));
      if (nu !== 1.5 && nu !== 2.5) {
        throw new UnsupportedEstimatorError(`Matern(nu=${nu}) is not supported (0.5, 1.5, 2.5 and inf are)`);
      }
      const s = ctx.op('Mul', [d, ctx.constD([Math.sqrt(nu === 1.5 ? 3 : 5)], [])]);
      let poly = ctx.op('Add', [s, ctx.constD([1], [])]);
      if (nu === 2.5) poly = ctx.op('Add', [poly, ctx.op('Div', [ctx.op('Mul', [s, s]), ctx.constD([3], [])])]);
      return matrix(ctx.op('Mul', [poly, ctx.op('Exp', [ctx.op('Neg', [s])])]));
    }
    case 'RationalQuadratic': {
      const l = num(k, 'length_scale');
      const a = num(k, 'alpha');
      const d2 = sqDistances(ctx, t, new Float64Array(t.f).fill(1));
      const base = ctx.op('Add', [ctx.op('Div', [d2, ctx.constD([2 * a * l ** 2], [])]), ctx.constD([1], [])]);
      return matrix(ctx.op('Pow', [base, ctx.constD([-a], [])]));
    }
    case 'ExpSineSquared': {
      const l = num(k, 'length_scale');
      const period = num(k, 'periodicity');
      const d = ctx.op('Sqrt', [sqDistances(ctx, t, new Float64Array(t.f).fill(1))]);
      const sin = ctx.op('Sin', [ctx.op('Mul', [d, ctx.constD([Math.PI / period], [])])]);
      const r = ctx.op('Div', [sin, ctx.constD([l], [])]);
      return matrix(ctx.op('Exp', [ctx.op('Mul', [ctx.op('Mul', [r, r]), ctx.constD([-2], [])])]));
    }
    case 'DotProduct': {
      const s0 = num(k, 'sigma_0');
      const fitT = new Float64Array(t.f * t.m);
      for (let i = 0; i < t.m; i++) for (let j = 0; j < t.f; j++) fitT[j * t.m + i] = t.fit[i * t.f + j]!;
      const dot = ctx.op('MatMul', [t.x.name, ctx.constD(fitT, [t.f, t.m])]);
      return matrix(ctx.op('Add', [dot, ctx.constD([s0 ** 2], [])]));
    }
    default:
      throw new UnsupportedEstimatorError(
        `Gaussian process kernel ${k.name} is not supported (RBF, Matern, RationalQuadratic, ExpSineSquared, DotProduct, ConstantKernel, WhiteKernel, sums, products and powers are)`,
      );
  }
}

/** GaussianProcessRegressor.predict (the mean; return_std / return_cov are not served). */
export function gaussianProcessRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const fitArr = arr(est, 'X_train_');
  if (fitArr.shape.length !== 2) throw new UnsupportedEstimatorError('GaussianProcessRegressor X_train_ must be 2-D');
  const [m, f] = fitArr.shape as [number, number];
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`GaussianProcessRegressor expects ${f} features but its input has ${x.cols}`);
  const k = get(est, 'kernel_');
  if (!isPyObject(k))
    throw new UnsupportedEstimatorError('GaussianProcessRegressor has no fitted kernel_ (is it fitted?)');
  const xd = ctx.cast(x, 'DOUBLE');
  const kv = kernel(ctx, k, { x: xd, fit: toF64(fitArr), m, f });
  const kmat = kv.name ?? filled(ctx, xd, m, 1).name;
  const alphaArr = arr(est, 'alpha_');
  const targets = alphaArr.shape.length === 2 ? alphaArr.shape[1]! : 1;
  // the kernel's constant and _y_train_std folded into alpha_: onnxruntime fuses MatMul·scalar into FusedMatMul with a float32 alpha
  const std = toF64(arr(est, '_y_train_std'));
  const alpha = Float64Array.from(toF64(alphaArr), (v, i) => v * kv.c * std[std.length === 1 ? 0 : i % targets]!);
  const scaled = ctx.op('MatMul', [kmat, ctx.constD(alpha, [m, targets])]);
  const mu = toF64(arr(est, '_y_train_mean'));
  return { name: ctx.op('Add', [scaled, ctx.constD(mu, [1, mu.length])]), type: 'DOUBLE', cols: targets };
}
