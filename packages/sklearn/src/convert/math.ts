/** Elementwise float64 helpers ONNX lacks: accurate log1p and expm1, a column of ones, per-column constants. */
import { attr } from '@servekit/onnx';
import type { ConvertContext, Var } from './context.js';

/** A DOUBLE graph value of `cols` columns named `name`. */
export const dbl = (name: string, cols: number): Var => ({ name, type: 'DOUBLE', cols });

/** Cephes polevl (highest power first) or p1evl (`monic`: an implicit leading 1) of `c` at a DOUBLE tensor, as Horner steps. */
export function horner(ctx: ConvertContext, x: string, c: number[], monic: boolean): string {
  let acc = monic ? ctx.op('Add', [x, ctx.constD([c[0]!], [])]) : ctx.constD([c[0]!], []);
  for (const k of c.slice(1)) acc = ctx.op('Add', [ctx.op('Mul', [acc, x]), ctx.constD([k], [])]);
  return acc;
}

/** log1p(x) to a few ulps: u = 1 + x; x when u == 1, else log(u)·x/(u − 1) (Goldberg's correction). */
export function log1p(ctx: ConvertContext, x: Var): Var {
  const xd = ctx.cast(x, 'DOUBLE');
  const u = ctx.op('Add', [xd.name, ctx.constD([1], [])]);
  const um1 = ctx.op('Sub', [u, ctx.constD([1], [])]);
  const isOne = ctx.op('Equal', [um1, ctx.constD([0], [])]);
  const safe = ctx.op('Where', [isOne, ctx.constD([1], []), um1]);
  const corrected = ctx.op('Div', [ctx.op('Mul', [ctx.op('Log', [u]), xd.name]), safe]);
  // u = +inf: log(u)·x/(u−1) is inf/inf; log(u) is right there
  const isInf = ctx.op('IsInf', [u]);
  const big = ctx.op('Where', [isInf, ctx.op('Log', [u]), corrected]);
  return dbl(ctx.op('Where', [isOne, xd.name, big]), x.cols);
}

/** expm1(x) to a few ulps: u = exp(x); x when u == 1, −1 when u − 1 == −1, else (u − 1)·x/log(u) (Kahan). */
export function expm1(ctx: ConvertContext, x: Var): Var {
  const xd = ctx.cast(x, 'DOUBLE');
  const u = ctx.op('Exp', [xd.name]);
  const um1 = ctx.op('Sub', [u, ctx.constD([1], [])]);
  const isOne = ctx.op('Equal', [um1, ctx.constD([0], [])]);
  const isMinusOne = ctx.op('Equal', [um1, ctx.constD([-1], [])]);
  const isInf = ctx.op('IsInf', [u]);
  const logu = ctx.op('Log', [u]);
  const safeLog = ctx.op('Where', [isOne, ctx.constD([1], []), logu]);
  const corrected = ctx.op('Div', [ctx.op('Mul', [um1, xd.name]), safeLog]);
  let y = ctx.op('Where', [isInf, u, corrected]);
  y = ctx.op('Where', [isMinusOne, ctx.constD([-1], []), y]);
  return dbl(ctx.op('Where', [isOne, xd.name, y]), x.cols);
}

/** A float64 [N, cols] tensor of `value` with x's row count. */
export function filled(ctx: ConvertContext, x: Var, cols: number, value: number): Var {
  const n = ctx.op('Shape', [x.name], { start: attr.i(0), end: attr.i(1) });
  const shape = ctx.op('Concat', [n, ctx.constI([cols])], { axis: attr.i(0) });
  const t = { type: 'DOUBLE' as const, dims: [1], values: [value] };
  return dbl(ctx.op('ConstantOfShape', [shape], { value: attr.t(t) }), cols);
}

/** A [1, F] float64 row constant. */
export function row(ctx: ConvertContext, values: ArrayLike<number>): string {
  return ctx.constD(values, [1, values.length]);
}

/** A [1, F] boolean row constant. */
export function boolRow(ctx: ConvertContext, values: boolean[]): string {
  const asD = ctx.constD(
    values.map((v) => (v ? 1 : 0)),
    [1, values.length],
  );
  return ctx.op('Cast', [asD], { to: attr.i(9) });
}
