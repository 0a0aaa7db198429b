/**
 * SplineTransformer.transform: each feature's B-spline basis by the Cox–de Boor recursion on its knot interval (the
 * arithmetic scipy's de Boor evaluation does), with the 'error', 'constant', 'linear', 'continue' and 'periodic'
 * extrapolation modes of scikit-learn.
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isPyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { arr, bool, has, list, num, str, toF64 } from './state.js';

const MODES = ['error', 'constant', 'linear', 'continue', 'periodic'];

/** One fitted scipy BSpline of the transformer: knots t, degree k, coefficient matrix c [n, S]. */
interface Spline {
  t: Float64Array;
  k: number;
  c: Float64Array;
  s: number;
}

function splinesOf(est: PyObject): Spline[] {
  return list(est, 'bsplines_').map((b, i) => {
    if (!isPyObject(b) || b.name !== 'BSpline')
      throw new UnsupportedEstimatorError(`SplineTransformer.bsplines_[${i}] is not a scipy BSpline`);
    // scipy >= 1.16 keeps the knots and coefficients as `_t` / `_c` (properties `t` / `c`)
    const t = toF64(arr(b, has(b, '_t') ? '_t' : 't'));
    const cArr = arr(b, has(b, '_c') ? '_c' : 'c');
    const k = num(b, 'k');
    const [n, s] = cArr.shape as [number, number];
    if (!(Number.isInteger(k) && k >= 0 && n === t.length - k - 1 && cArr.shape.length === 2))
      throw new UnsupportedEstimatorError(`SplineTransformer.bsplines_[${i}] has inconsistent knots and coefficients`);
    return { t, k, c: toF64(cArr), s };
  });
}

/** t[i+d] − t[i] for i in [0, T−d) (0 where the knots coincide or run out). */
function spans(t: Float64Array, d: number): Float64Array {
  return Float64Array.from({ length: t.length - d }, (_, i) => {
    const span = (t[i + d] ?? Number.NaN) - t[i]!;
    return span === 0 || Number.isNaN(span) ? 0 : span;
  });
}

/** Basis functions of degree `deg` at x on knot interval l (Cox–de Boor from the one-hot of l), length T−1−deg. */
function basisAt(t: Float64Array, deg: number, x: number, l: number): Float64Array {
  let b = Float64Array.from({ length: t.length - 1 }, (_, i) => (i === l ? 1 : 0));
  for (let d = 1; d <= deg; d++) {
    const span = spans(t, d);
    const w = Float64Array.from(b, (v, i) => (span[i] === 0 ? 0 : v / span[i]!));
    b = Float64Array.from({ length: b.length - 1 }, (_, i) => w[i]! * (x - t[i]!) + w[i + 1]! * (t[i + d + 1]! - x));
  }
  return b;
}

/** spl(x) and spl(x, nu=1) at a boundary knot x of interval l: [S] values and slopes. */
function valueAndSlope(sp: Spline, x: number, l: number): { f: Float64Array; fp: Float64Array } {
  const { t, k, c, s } = sp;
  const n = t.length - k - 1;
  const basis = basisAt(t, k, x, l);
  const slope = new Float64Array(n);
  if (k > 0) {
    const lower = basisAt(t, k - 1, x, l);
    const span = spans(t, k);
    for (let i = 0; i < n; i++) {
      const a = span[i] === 0 ? 0 : lower[i]! / span[i]!;
      const b = span[i + 1] === 0 ? 0 : lower[i + 1]! / span[i + 1]!;
      slope[i] = k * (a - b);
    }
  }
  const f = new Float64Array(s);
  const fp = new Float64Array(s);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < s; j++) {
      f[j]! += basis[i]! * c[i * s + j]!;
      fp[j]! += slope[i]! * c[i * s + j]!;
    }
  }
  return { f, fp };
}

/** SplineTransformer.transform (float64; extrapolation='error' gives NaN outside the knots, scikit-learn raises). */
export function splineTransformer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const mode = str(est, 'extrapolation', 'constant');
  if (!MODES.includes(mode))
    throw new UnsupportedEstimatorError(`SplineTransformer(extrapolation='${mode}') is not supported`);
  const splines = splinesOf(est);
  const f = splines.length;
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`SplineTransformer expects ${f} features but its input has ${x.cols}`);
  const { k, s } = splines[0]!;
  if (mode === 'linear' && k <= 1 && f > 1) {
    // scikit-learn ≤ 1.2 bumps its `degree` variable inside the feature loop, so features after the first get other
    // bounds than their knots say (a bug later fixed): which output is right depends on the version, so refuse
    throw new UnsupportedEstimatorError(
      "SplineTransformer(extrapolation='linear') with degree <= 1 and more than one feature is not supported (its output differs between scikit-learn versions)",
    );
  }
  const tLen = splines[0]!.t.length;
  const n = tLen - k - 1;
  if (
    splines.some(
      (sp) => sp.k !== k || sp.s !== s || sp.t.length !== tLen || sp.c.some((v, i) => v !== splines[0]!.c[i]),
    )
  )
    throw new UnsupportedEstimatorError('SplineTransformer splines differ in degree, knots count or coefficients');
  const c = (v: number): string => ctx.constD([v], []);
  const perFeature = (pick: (sp: Spline) => ArrayLike<number>, width: number): string => {
    const out = new Float64Array(f * width);
    for (const [i, sp] of splines.entries()) out.set(pick(sp), i * width);
    return ctx.constD(out, [1, f, width]);
  };
  const xmin = Float64Array.from(splines, (sp) => sp.t[k]!);
  const xmax = Float64Array.from(splines, (sp) => sp.t[n]!);
  let xd = ctx.cast(x, 'DOUBLE').name;
  if (mode === 'periodic') {
    // t[k] + (x − t[k]) % (t[n] − t[k]), numpy's floor remainder
    const lo = ctx.constD(xmin, [1, f]);
    const period = ctx.constD(
      Float64Array.from(xmax, (v, i) => v - xmin[i]!),
      [1, f],
    );
    const r = ctx.op('Mod', [ctx.op('Sub', [xd, lo]), period], { fmod: attr.i(1) });
    const wrap = ctx.op('And', [ctx.op('Not', [ctx.op('Equal', [r, c(0)])]), ctx.op('Less', [r, c(0)])]);
    xd = ctx.op('Add', [lo, ctx.op('Where', [wrap, ctx.op('Add', [r, period]), r])]);
  }
  const x3 = ctx.op('Unsqueeze', [xd, ctx.constI([2])]); // [N, F, 1]
  // knot interval l in [k, n−1]: k + #{j in k+1..n−1 : t[j] <= x}
  const inner = perFeature((sp) => sp.t.subarray(k + 1, n), n - k - 1);
  const count = ctx.op(
    'ReduceSum',
    [ctx.op('Cast', [ctx.op('LessOrEqual', [inner, x3])], { to: attr.i(7) }), ctx.constI([2])],
    {
      keepdims: attr.i(1),
    },
  );
  const l = ctx.op('Add', [count, ctx.constI([k], [])]);
  const idx = ctx.constI(
    Array.from({ length: tLen - 1 }, (_, i) => i),
    [1, 1, tLen - 1],
  );
  let b = ctx.op('Cast', [ctx.op('Equal', [idx, l])], { to: attr.i(11) }); // [N, F, T−1]
  for (let d = 1; d <= k; d++) {
    const width = tLen - d; // entries of the degree d−1 basis
    const w = ctx.op('Div', [b, perFeature((sp) => Float64Array.from(spans(sp.t, d), (v) => v || 1), width)]);
    const wz = ctx.op('Mul', [w, perFeature((sp) => Float64Array.from(spans(sp.t, d), (v) => (v ? 1 : 0)), width)]);
    const left = ctx.op('Slice', [wz, ctx.constI([0]), ctx.constI([width - 1]), ctx.constI([2])]);
    const right = ctx.op('Slice', [wz, ctx.constI([1]), ctx.constI([width]), ctx.constI([2])]);
    const tLeft = perFeature((sp) => sp.t.subarray(0, width - 1), width - 1);
    const tRight = perFeature((sp) => sp.t.subarray(d + 1, d + width), width - 1);
    b = ctx.op('Add', [
      ctx.op('Mul', [left, ctx.op('Sub', [x3, tLeft])]),
      ctx.op('Mul', [right, ctx.op('Sub', [tRight, x3])]),
    ]);
  }
  let y = ctx.op('MatMul', [b, ctx.constD(splines[0]!.c, [n, s])]); // [N, F, S]
  const below = ctx.op('Less', [x3, ctx.constD(xmin, [1, f, 1])]);
  const above = ctx.op('Greater', [x3, ctx.constD(xmax, [1, f, 1])]);
  if (mode === 'error') {
    y = ctx.op('Where', [ctx.op('Or', [below, above]), c(Number.NaN), y]);
  } else if (mode === 'constant' || mode === 'linear') {
    const ends = splines.map((sp, i) => ({
      lo: valueAndSlope(sp, xmin[i]!, k),
      hi: valueAndSlope(sp, xmax[i]!, n - 1),
    }));
    const deg = mode === 'linear' && k <= 1 ? k + 1 : k;
    const keep = (v: Float64Array, first: boolean): Float64Array =>
      Float64Array.from(v, (e, j) => ((first ? j < deg : j >= s - deg) ? e : 0));
    const at = (pick: (i: number) => Float64Array): string => perFeature((sp) => pick(splines.indexOf(sp)), s);
    let lowVal = at((i) => keep(ends[i]!.lo.f, true));
    let highVal = at((i) => keep(ends[i]!.hi.f, false));
    if (mode === 'linear') {
      const dLow = ctx.op('Sub', [x3, ctx.constD(xmin, [1, f, 1])]);
      const dHigh = ctx.op('Sub', [x3, ctx.constD(xmax, [1, f, 1])]);
      lowVal = ctx.op('Add', [lowVal, ctx.op('Mul', [dLow, at((i) => keep(ends[i]!.lo.fp, true))])]);
      highVal = ctx.op('Add', [highVal, ctx.op('Mul', [dHigh, at((i) => keep(ends[i]!.hi.fp, false))])]);
    }
    y = ctx.op('Where', [below, lowVal, ctx.op('Where', [above, highVal, y])]);
  }
  const flat = ctx.op('Reshape', [y, ctx.constI([0, f * s])]);
  if (bool(est, 'include_bias', true)) return { name: flat, type: 'DOUBLE', cols: f * s };
  const keepCols = Array.from({ length: f * s }, (_, j) => j).filter((j) => (j + 1) % s !== 0);
  return ctx.columns({ name: flat, type: 'DOUBLE', cols: f * s }, keepCols);
}
