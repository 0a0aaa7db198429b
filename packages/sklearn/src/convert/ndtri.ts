/**
 * scipy.special.ndtri (Cephes ndtri.c, the inverse of the standard normal CDF), in TypeScript and as ONNX ops.
 * The coefficients are Cephes' decimals written as the shortest literals of the same float64 values.
 */
import type { ConvertContext } from './context.js';
import { horner } from './math.js';

const S2PI = 2.5066282746310007;
const EXP_MINUS_2 = 0.1353352832366127;
// central region 0 <= |y − 0.5| <= 3/8
const P0 = [-59.96335010141079, 98.00107541859997, -56.67628574690703, 13.931260938727968, -1.2391658386738125];
const Q0 = [
  1.9544885833814176, 4.676279128988815, 86.36024213908905, -225.46268785411937, 200.26021238006066, -82.03722561683334,
  15.90562251262117, -1.1833162112133,
];
// z = sqrt(−2 log y) between 2 and 8
const P1 = [
  4.0554489230596245, 31.525109459989388, 57.16281922464213, 44.08050738932008, 14.684956192885803, 2.1866330685079025,
  -0.1402560791713545, -0.03504246268278482, -0.0008574567851546854,
];
const Q1 = [
  15.779988325646675, 45.39076351288792, 41.3172038254672, 15.04253856929075, 2.504649462083094, -0.14218292285478779,
  -0.03808064076915783, -0.0009332594808954574,
];
// z between 8 and 64
const P2 = [
  3.2377489177694603, 6.915228890689842, 3.9388102529247444, 1.3330346081580755, 0.20148538954917908,
  0.012371663481782003, 0.00030158155350823543, 2.6580697468673755e-6, 6.239745391849833e-9,
];
const Q2 = [
  6.02427039364742, 3.6798356385616087, 1.3770209948908132, 0.21623699359449663, 0.013420400608854318,
  0.00032801446468212774, 2.8924786474538068e-6, 6.790194080099813e-9,
];

/** Cephes polevl: coefficients highest power first. */
const polevl = (x: number, c: number[]): number => c.reduce((acc, k) => acc * x + k, 0);
/** Cephes p1evl: an implicit leading 1. */
const p1evl = (x: number, c: number[]): number => c.reduce((acc, k) => acc * x + k, 1);

/** scipy.special.ndtri(y) for one number, the same operations as Cephes. */
export function ndtri(y0: number): number {
  if (Number.isNaN(y0) || y0 < 0 || y0 > 1) return Number.NaN;
  if (y0 === 0) return Number.NEGATIVE_INFINITY;
  if (y0 === 1) return Number.POSITIVE_INFINITY;
  let y = y0;
  let lower = true;
  if (y > 1 - EXP_MINUS_2) {
    y = 1 - y;
    lower = false;
  }
  if (y > EXP_MINUS_2) {
    y -= 0.5;
    const y2 = y * y;
    return (y + y * ((y2 * polevl(y2, P0)) / p1evl(y2, Q0))) * S2PI;
  }
  const x = Math.sqrt(-2 * Math.log(y));
  const x0 = x - Math.log(x) / x;
  const z = 1 / x;
  const x1 = x < 8 ? (z * polevl(z, P1)) / p1evl(z, Q1) : (z * polevl(z, P2)) / p1evl(z, Q2);
  return lower ? -(x0 - x1) : x0 - x1;
}

/** ndtri elementwise on a float64 tensor (NaN stays NaN, 0 → −∞, 1 → +∞), following Cephes branch by branch. */
export function ndtriOp(ctx: ConvertContext, y0: string): string {
  const c = (v: number): string => ctx.constD([v], []);
  const upper = ctx.op('Greater', [y0, c(1 - EXP_MINUS_2)]);
  const y = ctx.op('Where', [upper, ctx.op('Sub', [c(1), y0]), y0]);
  // central: (w + w·w²·P0(w²)/Q0(w²))·√2π with w = y − 0.5, y the untouched input
  const w = ctx.op('Sub', [y0, c(0.5)]);
  const w2 = ctx.op('Mul', [w, w]);
  const ratio0 = ctx.op('Div', [ctx.op('Mul', [w2, horner(ctx, w2, P0, false)]), horner(ctx, w2, Q0, true)]);
  const central = ctx.op('Mul', [ctx.op('Add', [w, ctx.op('Mul', [w, ratio0])]), c(S2PI)]);
  // tails: y clamped into (0, exp(−2)] so that every branch stays finite where it is not chosen
  const yt = ctx.op('Min', [ctx.op('Max', [y, c(Number.MIN_VALUE)]), c(EXP_MINUS_2)]);
  const x = ctx.op('Sqrt', [ctx.op('Mul', [ctx.op('Log', [yt]), c(-2)])]);
  const x0 = ctx.op('Sub', [x, ctx.op('Div', [ctx.op('Log', [x]), x])]);
  const z = ctx.op('Div', [c(1), x]);
  const near = ctx.op('Div', [ctx.op('Mul', [z, horner(ctx, z, P1, false)]), horner(ctx, z, Q1, true)]);
  const far = ctx.op('Div', [ctx.op('Mul', [z, horner(ctx, z, P2, false)]), horner(ctx, z, Q2, true)]);
  const x1 = ctx.op('Where', [ctx.op('Less', [x, c(8)]), near, far]);
  const tail = ctx.op('Sub', [x0, x1]);
  const signed = ctx.op('Where', [upper, tail, ctx.op('Neg', [tail])]);
  let out = ctx.op('Where', [ctx.op('Greater', [y, c(EXP_MINUS_2)]), central, signed]);
  out = ctx.op('Where', [ctx.op('Equal', [y0, c(0)]), c(Number.NEGATIVE_INFINITY), out]);
  out = ctx.op('Where', [ctx.op('Equal', [y0, c(1)]), c(Number.POSITIVE_INFINITY), out]);
  const outside = ctx.op('Or', [ctx.op('Less', [y0, c(0)]), ctx.op('Greater', [y0, c(1)])]);
  out = ctx.op('Where', [outside, c(Number.NaN), out]);
  return ctx.op('Where', [ctx.op('IsNaN', [y0]), y0, out]);
}
