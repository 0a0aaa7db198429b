/** DecisionTree / RandomForest / ExtraTrees and GradientBoosting (classifiers and regressors) → TreeEnsembleRegressor. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { NdArray, PyObject } from '../pickle/py-types.js';
import { isNdArray, isPyObject } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, Var } from './context.js';
import { arr, get, list, num, obj, str, toF64 } from './state.js';
import { type FlatTree, TreeEnsembleBuilder } from './tree-ensemble.js';

interface SkTree {
  left: Float64Array;
  right: Float64Array;
  feature: Float64Array;
  threshold: Float64Array;
  missingGoLeft?: Float64Array;
  /** values [nodes, nOutputs, maxClasses] flattened. */
  values: Float64Array;
  width: number;
}

/** Read a fitted sklearn.tree._tree.Tree (node record layouts of sklearn 1.0-1.6). */
export function readTree(est: PyObject): SkTree {
  const tree = obj(est, 'tree_');
  const nodes = arr(tree, 'nodes');
  const values = arr(tree, 'values');
  if (!nodes.fields) throw new UnsupportedEstimatorError(`${est.name}.tree_.nodes is not a structured array`);
  const field = (name: string): Float64Array => {
    const f = nodes.fields!.get(name);
    if (!f) throw new UnsupportedEstimatorError(`${est.name}.tree_.nodes has no field '${name}'`);
    return toF64(f);
  };
  if (values.shape.length !== 3)
    throw new UnsupportedEstimatorError(`${est.name}.tree_.values has an unexpected shape`);
  if (values.shape[1] !== 1) throw new UnsupportedEstimatorError(`multi-output ${est.name} is not supported`);
  const missing = nodes.fields.get('missing_go_to_left');
  return {
    left: field('left_child'),
    right: field('right_child'),
    feature: field('feature'),
    threshold: field('threshold'),
    ...(missing ? { missingGoLeft: toF64(missing) } : {}),
    values: toF64(values),
    width: values.shape[2]!,
  };
}

function flat(t: SkTree, leafWeights: (node: number) => [number, number][]): FlatTree {
  return { ...t, leafWeights };
}

/** The trees of a forest (or the one tree of a DecisionTree). */
function members(est: PyObject): PyObject[] {
  if (est.name.startsWith('DecisionTree') || (est.name.startsWith('ExtraTree') && !est.name.startsWith('ExtraTrees'))) {
    return [est];
  }
  return list(est, 'estimators_').map((e) => {
    if (!isPyObject(e)) throw new UnsupportedEstimatorError(`${est.name}.estimators_ holds a non-estimator`);
    return e;
  });
}

/** sklearn casts tree inputs to float32 before comparing with float64 thresholds; do the same. */
function asFloat32(ctx: ConvertContext, x: Var): Var {
  return ctx.cast(ctx.cast(x, 'FLOAT'), 'DOUBLE');
}

/** DecisionTree / RandomForest / ExtraTrees classifiers: averaged normalized leaf class distributions. */
export function forestClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const trees = members(est);
  const nClasses = arr(est, 'classes_').shape[0]!;
  if (arr(est, 'classes_').shape.length !== 1)
    throw new UnsupportedEstimatorError(`multi-output ${est.name} is not supported`);
  const b = new TreeEnsembleBuilder(nClasses);
  for (const te of trees) {
    const t = readTree(te);
    b.add(
      flat(t, (node) => {
        const row = t.values.subarray(node * t.width, node * t.width + nClasses);
        let s = 0;
        for (const v of row) s += v;
        if (s === 0) s = 1;
        return Array.from(row, (v, k) => [k, v / s / trees.length] as [number, number]);
      }),
    );
  }
  const probabilities = ctx.cast(b.emit(ctx, asFloat32(ctx, x)), 'DOUBLE');
  return { labelIndex: ctx.argmax(probabilities), probabilities };
}

/** DecisionTree / RandomForest / ExtraTrees regressors: averaged leaf values. */
export function forestRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const trees = members(est);
  const b = new TreeEnsembleBuilder(1);
  for (const te of trees) {
    const t = readTree(te);
    b.add(flat(t, (node) => [[0, t.values[node * t.width]! / trees.length]]));
  }
  return ctx.cast(b.emit(ctx, asFloat32(ctx, x)), 'DOUBLE');
}

const F32_EPS = 1.1920928955078125e-7;
const clip = (p: number): number => Math.min(Math.max(p, F32_EPS), 1 - F32_EPS);

/** Initial raw prediction of a GradientBoosting model (init_ = DummyClassifier/DummyRegressor, or 'zero'). */
function gbInit(est: PyObject, k: number, classifier: boolean): Float64Array {
  const init = get(est, 'init_');
  if (init === 'zero') return new Float64Array(k);
  if (!isPyObject(init)) throw new UnsupportedEstimatorError(`${est.name} has an unsupported init_`);
  if (init.name === 'DummyRegressor') {
    const c = toF64(arr(init, 'constant_'));
    return Float64Array.from({ length: k }, (_, i) => c[i] ?? c[0]!);
  }
  if (init.name !== 'DummyClassifier' || !classifier) {
    throw new UnsupportedEstimatorError(`${est.name} with init=${init.name} is not supported`);
  }
  const strategy = str(init, '_strategy', str(init, 'strategy', 'prior'));
  if (strategy !== 'prior')
    throw new UnsupportedEstimatorError(`${est.name} init DummyClassifier(strategy='${strategy}') is not supported`);
  const prior = toF64(arr(init, 'class_prior_'));
  if (k === 1) {
    const p = clip(prior[1]!);
    const logit = Math.log(p / (1 - p));
    return Float64Array.of(lossName(est) === 'exponential' ? logit / 2 : logit);
  }
  const logs = Float64Array.from(prior, (p) => Math.log(clip(p)));
  // scikit-learn >= 1.3 (loss HalfMultinomialLoss from sklearn._loss) centres the log priors (geometric-mean
  // reference, MultinomialLogit.link); the older MultinomialDeviance did not. Softmax is the same either way, the
  // decision_function is not.
  const loss = get(est, '_loss');
  if (isPyObject(loss) && loss.name === 'HalfMultinomialLoss') {
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    return logs.map((v) => v - mean);
  }
  return logs;
}

function lossName(est: PyObject): string {
  const loss = get(est, 'loss');
  return typeof loss === 'string' ? loss : 'log_loss';
}

/** Sum of init + learning_rate · Σ trees, as FLOAT [N, K]. */
function gbRaw(ctx: ConvertContext, est: PyObject, x: Var, classifier: boolean): Var {
  const estimators = get(est, 'estimators_');
  if (!isNdArray(estimators) || estimators.shape.length !== 2) {
    throw new UnsupportedEstimatorError(`${est.name}.estimators_ is not a 2-D array of trees`);
  }
  const [, k] = estimators.shape as [number, number];
  const lr = num(est, 'learning_rate');
  const b = new TreeEnsembleBuilder(k);
  (estimators as NdArray & { data: unknown[] }).data.forEach((te, i) => {
    if (!isPyObject(te)) throw new UnsupportedEstimatorError(`${est.name}.estimators_ holds a non-tree`);
    const t = readTree(te);
    const target = i % k;
    b.add(flat(t, (node) => [[target, lr * t.values[node * t.width]!]]));
  });
  return ctx.cast(b.emit(ctx, asFloat32(ctx, x), gbInit(est, k, classifier)), 'DOUBLE');
}

/**
 * GradientBoostingClassifier: sigmoid (binary log_loss), σ(2·raw) (exponential) or softmax (multiclass) of the raw
 * scores, which are its decision_function.
 */
export function gradientBoostingClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const raw = gbRaw(ctx, est, x, true);
  if (raw.cols === 1) {
    const scaled =
      lossName(est) === 'exponential'
        ? { name: ctx.op('Mul', [raw.name, ctx.constD([2], [])]), type: 'DOUBLE' as const, cols: 1 }
        : raw;
    const probabilities = ctx.twoColumns(ctx.unary('Sigmoid', scaled));
    return { labelIndex: ctx.positiveIndex(raw), probabilities, decision: raw };
  }
  const probabilities = ctx.softmax(raw);
  return { labelIndex: ctx.argmax(raw), probabilities, decision: raw };
}

/** GradientBoostingRegressor: init + learning_rate · Σ trees. */
export function gradientBoostingRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  return gbRaw(ctx, est, x, false);
}
