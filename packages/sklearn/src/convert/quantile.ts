/**
 * QuantileTransformer: np.interp both ways through quantiles_, as scikit-learn does; output_distribution='normal'
 * then maps through scipy's ndtri and clips to ±ndtri(1e-7 − eps).
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { ndtri, ndtriOp } from './ndtri.js';
import { arr, str, toF64 } from './state.js';

/**
 * np.interp(x, xp[:, j], fp) per column j of x [N, F]: xp is [Q, F] (ascending per column), fp [Q].
 * Below xp[0] → fp[0]; at or above xp[Q-1] → fp[Q-1]; else fp[k] + slope_k·(x − xp[k]) with k the last index xp[k] <= x.
 */
export function interpColumns(ctx: ConvertContext, x: Var, xp: Float64Array, q: number, fp: Float64Array): string {
  const f = x.cols;
  const slopes = new Float64Array((q - 1) * f);
  for (let k = 0; k < q - 1; k++) {
    for (let j = 0; j < f; j++) {
      const dx = xp[(k + 1) * f + j]! - xp[k * f + j]!;
      slopes[k * f + j] = dx > 0 ? (fp[k + 1]! - fp[k]!) / dx : 0;
    }
  }
  const xp3 = ctx.constD(xp, [1, q, f]);
  const x3 = ctx.op('Unsqueeze', [x.name, ctx.constI([1])]); // [N, 1, F]
  const le = ctx.op('Cast', [ctx.op('LessOrEqual', [xp3, x3])], { to: attr.i(7) });
  const count = ctx.op('ReduceSum', [le, ctx.constI([1])], { keepdims: attr.i(0) }); // [N, F] INT64
  const k = ctx.op('Clip', [ctx.op('Sub', [count, ctx.constI([1], [])]), ctx.constI([0], []), ctx.constI([q - 2], [])]);
  const xk = ctx.op('GatherElements', [ctx.constD(xp, [q, f]), k], { axis: attr.i(0) });
  const fpCols = new Float64Array(q * f);
  for (let i = 0; i < q; i++) fpCols.fill(fp[i]!, i * f, (i + 1) * f);
  const fk = ctx.op('GatherElements', [ctx.constD(fpCols, [q, f]), k], { axis: attr.i(0) });
  const sk = ctx.op('GatherElements', [ctx.constD(slopes, [q - 1, f]), k], { axis: attr.i(0) });
  const inner = ctx.op('Add', [ctx.op('Mul', [sk, ctx.op('Sub', [x.name, xk])]), fk]);
  const first = xp.subarray(0, f);
  const last = xp.subarray((q - 1) * f);
  const below = ctx.op('Less', [x.name, ctx.constD(first, [1, f])]);
  const above = ctx.op('GreaterOrEqual', [x.name, ctx.constD(last, [1, f])]);
  const hi = ctx.op('Where', [above, ctx.constD([fp[q - 1]!], []), inner]);
  return ctx.op('Where', [below, ctx.constD([fp[0]!], []), hi]);
}

/** sklearn's BOUNDS_THRESHOLD. */
const BOUNDS_THRESHOLD = 1e-7;

/** QuantileTransformer: ½(interp(x) − interp(−x) reversed), bounds → 0 / 1, NaN kept; then ndtri for 'normal'. */
export function quantileTransformer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const dist = str(est, 'output_distribution', 'uniform');
  if (dist !== 'uniform' && dist !== 'normal') {
    throw new UnsupportedEstimatorError(
      `QuantileTransformer(output_distribution='${dist}') is not supported (only 'uniform' and 'normal')`,
    );
  }
  const quantiles = arr(est, 'quantiles_');
  const [q, f] = quantiles.shape as [number, number];
  if (f !== x.cols) {
    throw new UnsupportedEstimatorError(`QuantileTransformer expects ${f} features but its input has ${x.cols}`);
  }
  const xp = toF64(quantiles);
  const fp = toF64(arr(est, 'references_'));
  const xd = ctx.cast(x, 'DOUBLE');
  if (q === 1) {
    throw new UnsupportedEstimatorError('QuantileTransformer with a single quantile is not supported');
  }
  // reversed: interp(−x, −xp[::-1], −fp[::-1])
  const xpRev = new Float64Array(q * f);
  for (let i = 0; i < q; i++) for (let j = 0; j < f; j++) xpRev[i * f + j] = -xp[(q - 1 - i) * f + j]!;
  const fpRev = Float64Array.from({ length: q }, (_, i) => -fp[q - 1 - i]!);
  const up = interpColumns(ctx, xd, xp, q, fp);
  const negx: Var = { name: ctx.op('Neg', [xd.name]), type: 'DOUBLE', cols: f };
  const down = interpColumns(ctx, negx, xpRev, q, fpRev);
  let y = ctx.op('Mul', [ctx.op('Sub', [up, down]), ctx.constD([0.5], [])]);
  const lowerX = ctx.constD(xp.subarray(0, f), [1, f]);
  const upperX = ctx.constD(xp.subarray((q - 1) * f), [1, f]);
  // uniform: x equal to a bound; normal: within BOUNDS_THRESHOLD of it (or past it)
  const isUpper =
    dist === 'uniform'
      ? ctx.op('Equal', [xd.name, upperX])
      : ctx.op('Greater', [ctx.op('Add', [xd.name, ctx.constD([BOUNDS_THRESHOLD], [])]), upperX]);
  const isLower =
    dist === 'uniform'
      ? ctx.op('Equal', [xd.name, lowerX])
      : ctx.op('Less', [ctx.op('Sub', [xd.name, ctx.constD([BOUNDS_THRESHOLD], [])]), lowerX]);
  y = ctx.op('Where', [isUpper, ctx.constD([1], []), y]);
  y = ctx.op('Where', [isLower, ctx.constD([0], []), y]);
  y = ctx.op('Where', [ctx.op('IsNaN', [xd.name]), xd.name, y]);
  if (dist === 'normal') {
    const eps = 2 ** -52; // np.spacing(1)
    const lo = ndtri(BOUNDS_THRESHOLD - eps);
    const hi = ndtri(1 - (BOUNDS_THRESHOLD - eps));
    const clipped = ctx.op('Clip', [ndtriOp(ctx, y), ctx.constD([lo], []), ctx.constD([hi], [])]);
    y = ctx.op('Where', [ctx.op('IsNaN', [y]), y, clipped]); // np.clip keeps NaN
  }
  return { name: y, type: 'DOUBLE', cols: f };
}
