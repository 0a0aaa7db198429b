/** MLPClassifier / MLPRegressor: dense layers with relu/tanh/logistic/identity, in float64. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isNdArray } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, Var } from './context.js';
import { list, str, toF64 } from './state.js';

const ACTIVATIONS: Record<string, string | null> = { relu: 'Relu', tanh: 'Tanh', logistic: 'Sigmoid', identity: null };

/** The network's output before out_activation_, [N, n_outputs]. */
function forward(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const coefs = list(est, 'coefs_');
  const intercepts = list(est, 'intercepts_');
  const hidden = str(est, 'activation', 'relu');
  if (!(hidden in ACTIVATIONS))
    throw new UnsupportedEstimatorError(`${est.name}(activation='${hidden}') is not supported`);
  let h = ctx.cast(x, 'DOUBLE');
  coefs.forEach((w, i) => {
    const b = intercepts[i];
    if (!isNdArray(w) || !isNdArray(b))
      throw new UnsupportedEstimatorError(`${est.name}.coefs_ entries must be arrays`);
    h = ctx.affine(h, toF64(w), w.shape[1]!, toF64(b));
    const act = ACTIVATIONS[hidden];
    if (i < coefs.length - 1 && act) h = ctx.unary(act, h);
  });
  return h;
}

/** MLPClassifier: softmax (multiclass) or logistic (binary) output layer. */
export function mlpClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const out = str(est, 'out_activation_', 'softmax');
  const z = forward(ctx, est, x);
  if (out === 'softmax') {
    const p = ctx.softmax(z);
    return { labelIndex: ctx.argmax(p), probabilities: p };
  }
  if (out === 'logistic' && z.cols === 1) {
    const p = ctx.unary('Sigmoid', z);
    const half = { name: ctx.op('Sub', [p.name, ctx.constD([0.5], [])]), type: 'DOUBLE' as const, cols: 1 };
    return { labelIndex: ctx.positiveIndex(half), probabilities: ctx.twoColumns(p) };
  }
  throw new UnsupportedEstimatorError(`multi-label MLPClassifier (out_activation_='${out}') is not supported`);
}

/** MLPRegressor: identity output layer. */
export function mlpRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  return forward(ctx, est, x);
}
