/**
 * scipy.special.erf for float64 as ONNX ops (onnxruntime's Erf has no double kernel): Cephes ndtr.c, the rational
 * approximations scipy compiles, its decimals written as the shortest literals of the same float64 values. erf is
 * odd: it is taken on |x| and given x's sign.
 */
import type { ConvertContext } from './context.js';
import { horner } from './math.js';

// |x| <= 1: erf(x) = x · T(x²) / U(x²)
const T = [9.604973739870516, 90.02601972038427, 2232.005345946843, 7003.325141128051, 55592.30130103949];
const U = [33.56171416475031, 521.3579497801527, 4594.323829709801, 22629.000061389095, 49267.39426086359];
// 1 <= |x| < 8: erfc(x) = exp(−x²) · P(x) / Q(x)
const P = [
  2.461969814735305e-10, 0.5641895648310689, 7.463210564422699, 48.63719709856814, 196.5208329560771, 526.4451949954773,
  934.5285271719576, 1027.5518868951572, 557.5353353693994,
];
const Q = [
  13.228195115474499, 86.70721408859897, 354.9377788878199, 975.7085017432055, 1823.9091668790973, 2246.3376081871097,
  1656.6630919416134, 557.5353408177277,
];
// |x| >= 8: erfc(x) = exp(−x²) · R(x) / S(x)
const R = [
  0.5641895835477551, 1.275366707599781, 5.019050422511805, 6.160210979930536, 7.4097426995044895, 2.9788666537210022,
];
const S = [
  2.2605286322011726, 9.396035249380015, 12.048953980809666, 17.08144507475659, 9.608968090632859, 3.369076451000815,
];

/** erf(x) elementwise for a DOUBLE tensor, as scipy.special.erf. */
export function erfOp(ctx: ConvertContext, x: string): string {
  const a = ctx.op('Abs', [x]);
  const z = ctx.op('Mul', [a, a]);
  const small = ctx.op('Div', [ctx.op('Mul', [a, horner(ctx, z, T, false)]), horner(ctx, z, U, true)]);
  const e = ctx.op('Exp', [ctx.op('Neg', [z])]);
  const near = ctx.op('Div', [horner(ctx, a, P, false), horner(ctx, a, Q, true)]);
  const far = ctx.op('Div', [horner(ctx, a, R, false), horner(ctx, a, S, true)]);
  const ratio = ctx.op('Where', [ctx.op('Less', [a, ctx.constD([8], [])]), near, far]);
  const large = ctx.op('Sub', [ctx.constD([1], []), ctx.op('Mul', [e, ratio])]);
  const magnitude = ctx.op('Where', [ctx.op('Greater', [a, ctx.constD([1], [])]), large, small]);
  return ctx.op('Mul', [magnitude, ctx.op('Sign', [x])]);
}
