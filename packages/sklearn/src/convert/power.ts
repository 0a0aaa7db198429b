/** PowerTransformer (yeo-johnson, box-cox) with its optional standardization. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isPyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { boolRow, expm1, log1p, row } from './math.js';
import { standardScaler } from './preprocessing.js';
import { arr, bool, get, str, toF64 } from './state.js';

const EPS = 2.220446049250313e-16; // np.spacing(1.0)

/** Yeo-Johnson per column, as sklearn 1.2's _yeo_johnson_transform (np.power for λ ≠ 0, 2; log1p otherwise). */
function yeoJohnson(ctx: ConvertContext, x: Var, lambdas: Float64Array): Var {
  const f = x.cols;
  const dbl = (name: string): Var => ({ name, type: 'DOUBLE', cols: f });
  const one = ctx.constD([1], []);
  const pos = ctx.op('GreaterOrEqual', [x.name, ctx.constD([0], [])]);
  const lamZero = Array.from(lambdas, (l) => Math.abs(l) < EPS);
  const lamTwo = Array.from(lambdas, (l) => !(Math.abs(l - 2) > EPS));
  const lam = Float64Array.from(lambdas, (l, j) => (lamZero[j] ? 1 : l));
  const lam2 = Float64Array.from(lambdas, (l, j) => (lamTwo[j] ? 1 : 2 - l));
  // x >= 0
  const xp1 = ctx.op('Add', [x.name, one]);
  const powPos = ctx.op('Div', [ctx.op('Sub', [ctx.op('Pow', [xp1, row(ctx, lam)]), one]), row(ctx, lam)]);
  const posVal = ctx.op('Where', [boolRow(ctx, lamZero), log1p(ctx, x).name, powPos]);
  // x < 0
  const negx = ctx.op('Neg', [x.name]);
  const nxp1 = ctx.op('Add', [negx, one]);
  const powNeg = ctx.op('Neg', [
    ctx.op('Div', [ctx.op('Sub', [ctx.op('Pow', [nxp1, row(ctx, lam2)]), one]), row(ctx, lam2)]),
  ]);
  const negVal = ctx.op('Where', [boolRow(ctx, lamTwo), ctx.op('Neg', [log1p(ctx, dbl(negx)).name]), powNeg]);
  return dbl(ctx.op('Where', [pos, posVal, negVal]));
}

/** Box-Cox per column, as scipy.special.boxcox: log(x) for λ = 0, expm1(λ·log x)/λ otherwise. */
function boxCox(ctx: ConvertContext, x: Var, lambdas: Float64Array): Var {
  const lamZero = Array.from(lambdas, (l) => l === 0);
  const lam = Float64Array.from(lambdas, (l) => (l === 0 ? 1 : l));
  const logx = ctx.op('Log', [x.name]);
  const t: Var = { name: ctx.op('Mul', [logx, row(ctx, lam)]), type: 'DOUBLE', cols: x.cols };
  const powered = ctx.op('Div', [expm1(ctx, t).name, row(ctx, lam)]);
  return { name: ctx.op('Where', [boolRow(ctx, lamZero), logx, powered]), type: 'DOUBLE', cols: x.cols };
}

/** PowerTransformer: per-column λ from lambdas_, then the fitted StandardScaler when standardize=True. */
export function powerTransformer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const lambdas = toF64(arr(est, 'lambdas_'));
  if (lambdas.length !== x.cols) {
    throw new UnsupportedEstimatorError(
      `PowerTransformer expects ${lambdas.length} features but its input has ${x.cols}`,
    );
  }
  const xd = ctx.cast(x, 'DOUBLE');
  const method = str(est, 'method', 'yeo-johnson');
  let y: Var;
  if (method === 'yeo-johnson') y = yeoJohnson(ctx, xd, lambdas);
  else if (method === 'box-cox') y = boxCox(ctx, xd, lambdas);
  else throw new UnsupportedEstimatorError(`PowerTransformer method '${method}' is not supported`);
  const scaler = get(est, '_scaler');
  if (bool(est, 'standardize', true) && isPyObject(scaler)) y = standardScaler(ctx, scaler, y);
  return y;
}
