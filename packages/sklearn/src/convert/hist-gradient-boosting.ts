/** HistGradientBoostingClassifier / Regressor (numeric splits, NaN routing) → TreeEnsembleRegressor on float64 inputs. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isNdArray, isPyObject } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, Var } from './context.js';
import { arr, get, list, str, toF64 } from './state.js';
import { TreeEnsembleBuilder } from './tree-ensemble.js';

/** baseline + Σ predictor values, [N, K] in float64. */
function rawPrediction(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const cats = get(est, 'is_categorical_');
  if (isNdArray(cats) && Array.from(cats.data as ArrayLike<number>).some(Boolean)) {
    throw new UnsupportedEstimatorError(`${est.name} with categorical_features is not supported`);
  }
  const baseline = toF64(arr(est, '_baseline_prediction'));
  const k = baseline.length;
  const b = new TreeEnsembleBuilder(k);
  for (const iteration of list(est, '_predictors')) {
    if (!Array.isArray(iteration) || iteration.length !== k) {
      throw new UnsupportedEstimatorError(`${est.name}._predictors has an unexpected layout`);
    }
    iteration.forEach((p, target) => {
      if (!isPyObject(p)) throw new UnsupportedEstimatorError(`${est.name}._predictors holds a non-predictor`);
      const nodes = arr(p, 'nodes');
      const f = (name: string): Float64Array => {
        const col = nodes.fields?.get(name);
        if (!col) throw new UnsupportedEstimatorError(`${est.name} predictor nodes have no field '${name}'`);
        return toF64(col);
      };
      const isCat = nodes.fields?.get('is_categorical');
      if (isCat && Array.from(toF64(isCat)).some(Boolean)) {
        throw new UnsupportedEstimatorError(`${est.name} with categorical splits is not supported`);
      }
      const value = f('value');
      b.add({
        left: f('left'),
        right: f('right'),
        feature: f('feature_idx'),
        threshold: f('num_threshold'),
        missingGoLeft: f('missing_go_to_left'),
        isLeaf: f('is_leaf'),
        leafWeights: (node) => [[target, value[node]!]],
      });
    });
  }
  return ctx.cast(b.emit(ctx, ctx.cast(x, 'DOUBLE'), baseline), 'DOUBLE');
}

function lossName(est: PyObject): string {
  const loss = get(est, 'loss');
  return typeof loss === 'string' ? loss : str(est, 'loss', 'squared_error');
}

/** HistGradientBoostingClassifier: sigmoid (binary) or softmax (multiclass) of the raw scores (decision_function). */
export function histGradientBoostingClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const raw = rawPrediction(ctx, est, x);
  if (raw.cols === 1) {
    return {
      labelIndex: ctx.positiveIndex(raw),
      probabilities: ctx.twoColumns(ctx.unary('Sigmoid', raw)),
      decision: raw,
    };
  }
  return { labelIndex: ctx.argmax(raw), probabilities: ctx.softmax(raw), decision: raw };
}

/** HistGradientBoostingRegressor: identity link, or exp for poisson/gamma losses. */
export function histGradientBoostingRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const raw = rawPrediction(ctx, est, x);
  const loss = lossName(est);
  return loss === 'poisson' || loss === 'gamma' ? ctx.unary('Exp', raw) : raw;
}
