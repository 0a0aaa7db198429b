/**
 * Meta-estimators built from other converted estimators: Voting, Bagging, AdaBoost, Stacking, OneVsRest,
 * CalibratedClassifierCV and TransformedTargetRegressor.
 */

import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject, PyValue } from '../pickle/py-types.js';
import { isNdArray, isPyObject } from '../pickle/py-types.js';
import { pipelineSteps } from './compose.js';
import type { ClassifierOut, ConvertContext, MethodOutputs, Var } from './context.js';
import { labelBinarizerInverse } from './label-binarizer.js';
import { dbl, expm1, log1p } from './math.js';
import { ovrDecision } from './ovr-decision.js';
import { interpColumns } from './quantile.js';
import { applyClassifier, applyRegressor, applyTransformer } from './registry.js';
import { pickledBySklearnAtLeast } from './sklearn-version.js';
import { arr, get, labels, list, num, obj, str, toF64 } from './state.js';

/** A member estimator (or Pipeline) run as a classifier on x; also its classes_. */
function subClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut & { classes: (number | string)[] } {
  const steps = pipelineSteps(est);
  let v = x;
  for (const s of steps.slice(0, -1)) v = applyTransformer(ctx, s, v);
  const last = steps[steps.length - 1]!;
  return { ...applyClassifier(ctx, last, v), classes: labels(arr(last, 'classes_')) };
}

/** A member estimator (or Pipeline) run as a regressor on x, as DOUBLE [N, k]. */
function subRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const steps = pipelineSteps(est);
  let v = x;
  for (const s of steps.slice(0, -1)) v = applyTransformer(ctx, s, v);
  return ctx.cast(applyRegressor(ctx, steps[steps.length - 1]!, v), 'DOUBLE');
}

function members(est: PyObject, key = 'estimators_'): PyObject[] {
  return list(est, key).filter((e): e is PyObject => isPyObject(e));
}

/** [N, c] values over `from` classes → [N, C] over `to` classes (missing classes 0), exact 0/1 MatMul. */
function spread(ctx: ConvertContext, v: Var, from: (number | string)[], to: (number | string)[]): Var {
  if (from.length === to.length && from.every((c, i) => c === to[i])) return ctx.cast(v, 'DOUBLE');
  const m = new Float64Array(from.length * to.length);
  from.forEach((c, i) => {
    const j = to.indexOf(c);
    if (j < 0) throw new UnsupportedEstimatorError(`member class ${String(c)} is not among the ensemble's classes`);
    m[i * to.length + j] = 1;
  });
  return ctx.affine(v, m, to.length);
}

/** One-hot [N, C] of a member's predicted label over the ensemble's `to` classes. */
function oneHotLabel(ctx: ConvertContext, labelIndex: string, from: (number | string)[], to: (number | string)[]): Var {
  const idx = ctx.op('Reshape', [labelIndex, ctx.constI([-1, 1])]);
  const eye = ctx.op('Equal', [idx, ctx.constI(Array.from(from.keys()), [1, from.length])]);
  return spread(ctx, dbl(ctx.op('Cast', [eye], { to: attr.i(11) }), from.length), from, to);
}

function weightsOf(est: PyObject, n: number): number[] {
  const w = get(est, 'weights');
  if (w === null || w === undefined) return Array.from({ length: n }, () => 1);
  const values = Array.isArray(w) ? w.map(Number) : isNdArray(w) ? Array.from(toF64(w)) : [];
  const kept = list(est, 'estimators')
    .map((e, i) => (Array.isArray(e) && e[1] === 'drop' ? -1 : i))
    .filter((i) => i >= 0);
  return kept.map((i) => values[i]!);
}

function weightedSum(ctx: ConvertContext, parts: Var[], weights: number[], scale: number): Var {
  let acc: string | undefined;
  parts.forEach((p, i) => {
    const t = ctx.op('Mul', [p.name, ctx.constD([weights[i]! * 1], [])]);
    acc = acc ? ctx.op('Add', [acc, t]) : t;
  });
  return dbl(ctx.op('Div', [acc!, ctx.constD([scale], [])]), parts[0]!.cols);
}

/** VotingClassifier: soft = weighted mean of probabilities; hard = weighted vote counts (ties → first class). */
export function votingClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const classes = labels(arr(est, 'classes_'));
  const idx = classes.map((_, i) => i);
  const subs = members(est).map((m) => subClassifier(ctx, m, x));
  const w = weightsOf(est, subs.length);
  const total = w.reduce((a, b) => a + b, 0);
  if (str(est, 'voting', 'hard') === 'soft') {
    const probs = subs.map((s) => {
      if (!s.probabilities) throw new UnsupportedEstimatorError('soft VotingClassifier member has no predict_proba');
      return spread(ctx, s.probabilities, s.classes, idx);
    });
    const p = weightedSum(ctx, probs, w, total);
    return { labelIndex: ctx.argmax(p), probabilities: p };
  }
  const votes = weightedSum(
    ctx,
    subs.map((s) => oneHotLabel(ctx, s.labelIndex, s.classes, idx)),
    w,
    1,
  );
  return { labelIndex: ctx.argmax(votes) };
}

/** VotingClassifier.transform: hstack of member probabilities (soft) or member predictions (hard). */
export function votingClassifierTransform(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const subs = members(est).map((m) => subClassifier(ctx, m, x));
  if (str(est, 'voting', 'hard') === 'soft') {
    if (get(est, 'flatten_transform') === false) return {};
    return { transform: ctx.concat(subs.map((s) => ctx.cast(s.probabilities!, 'DOUBLE'))) };
  }
  const preds = subs.map((s) => {
    const values = ctx.constD(s.classes.map(Number));
    return dbl(
      ctx.op('Gather', [values, ctx.op('Reshape', [s.labelIndex, ctx.constI([-1, 1])])], { axis: attr.i(0) }),
      1,
    );
  });
  return { transform: ctx.concat(preds) };
}

/** VotingRegressor: weighted mean of member predictions. */
export function votingRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const preds = members(est).map((m) => subRegressor(ctx, m, x));
  const w = weightsOf(est, preds.length);
  return weightedSum(
    ctx,
    preds,
    w,
    w.reduce((a, b) => a + b, 0),
  );
}

/** VotingRegressor.transform: member predictions side by side. */
export function votingRegressorTransform(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  return { transform: ctx.concat(members(est).map((m) => subRegressor(ctx, m, x))) };
}

function featureSubset(ctx: ConvertContext, est: PyObject, i: number, x: Var): Var {
  const feats = list(est, 'estimators_features_')[i];
  return isNdArray(feats) ? ctx.columns(x, Array.from(toF64(feats))) : x;
}

/** BaggingClassifier: mean of member probabilities (or one-hot predictions) on their feature subsets. */
export function baggingClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const n = labels(arr(est, 'classes_')).length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const parts = members(est).map((m, i) => {
    const s = subClassifier(ctx, m, featureSubset(ctx, est, i, x));
    return s.probabilities
      ? spread(ctx, s.probabilities, s.classes, idx)
      : oneHotLabel(ctx, s.labelIndex, s.classes, idx);
  });
  const p = weightedSum(
    ctx,
    parts,
    parts.map(() => 1),
    num(est, 'n_estimators', parts.length),
  );
  return { labelIndex: ctx.argmax(p), probabilities: p };
}

/** BaggingRegressor: mean of member predictions on their feature subsets. */
export function baggingRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const preds = members(est).map((m, i) => subRegressor(ctx, m, featureSubset(ctx, est, i, x)));
  return weightedSum(
    ctx,
    preds,
    preds.map(() => 1),
    num(est, 'n_estimators', preds.length),
  );
}

/**
 * AdaBoostClassifier's algorithm: as pickled; 'deprecated' (scikit-learn 1.6, 1.7) and no parameter at all (1.8+,
 * where SAMME is the only one) mean SAMME; before 1.6 the default was SAMME.R.
 */
function adaBoostAlgorithm(est: PyObject): string {
  const a = get(est, 'algorithm');
  if (a === 'deprecated' || (a === undefined && pickledBySklearnAtLeast(est, 1, 6))) return 'SAMME';
  return str(est, 'algorithm', 'SAMME.R');
}

/** AdaBoostClassifier (SAMME and SAMME.R): decision, softmax probabilities, label as sklearn. */
export function adaBoostClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const classes = labels(arr(est, 'classes_'));
  const k = classes.length;
  const subs = members(est).map((m) => subClassifier(ctx, m, x));
  const allWeights = Array.from(toF64(arr(est, 'estimator_weights_')));
  const weights = allWeights.slice(0, subs.length);
  const total = allWeights.reduce((a, b) => a + b, 0);
  const algorithm = adaBoostAlgorithm(est);
  let parts: Var[];
  if (algorithm === 'SAMME.R') {
    parts = subs.map((s) => {
      if (!s.probabilities) throw new UnsupportedEstimatorError('AdaBoost SAMME.R member has no predict_proba');
      const p = spread(ctx, s.probabilities, s.classes, classes);
      const clipped = ctx.op('Max', [p.name, ctx.constD([2.220446049250313e-16], [])]);
      const logp = ctx.op('Log', [clipped]);
      const mean = ctx.op('Mul', [
        ctx.op('ReduceSum', [logp, ctx.constI([1])], { keepdims: attr.i(1) }),
        ctx.constD([1 / k], []),
      ]);
      return dbl(ctx.op('Mul', [ctx.op('Sub', [logp, mean]), ctx.constD([k - 1], [])]), k);
    });
    parts = [
      weightedSum(
        ctx,
        parts,
        parts.map(() => 1),
        1,
      ),
    ];
  } else if (algorithm === 'SAMME') {
    parts = [
      weightedSum(
        ctx,
        subs.map((s) => oneHotLabel(ctx, s.labelIndex, s.classes, classes)),
        weights,
        1,
      ),
    ];
  } else throw new UnsupportedEstimatorError(`AdaBoostClassifier algorithm '${algorithm}' is not supported`);
  let pred = dbl(ctx.op('Div', [parts[0]!.name, ctx.constD([total], [])]), k);
  if (algorithm === 'SAMME' && pickledBySklearnAtLeast(est, 1, 3)) {
    // scikit-learn >= 1.3 scores each member symmetrically (w for its class, -w/(K-1) for the others):
    // Σ that / total = pred·K/(K-1) − Σw/((K-1)·total) in terms of the older one-hot pred
    const used = weights.reduce((a, b) => a + b, 0);
    pred = dbl(
      ctx.op('Sub', [
        ctx.op('Mul', [pred.name, ctx.constD([k / (k - 1)], [])]),
        ctx.constD([used / ((k - 1) * total)], []),
      ]),
      k,
    );
  }
  if (k === 2) {
    const d = dbl(ctx.op('Sub', [ctx.columns(pred, [1]).name, ctx.columns(pred, [0]).name]), 1);
    const half = dbl(ctx.op('Div', [d.name, ctx.constD([2], [])]), 1);
    const both = dbl(ctx.op('Concat', [ctx.op('Neg', [half.name]), half.name], { axis: attr.i(1) }), 2);
    return { labelIndex: ctx.positiveIndex(d), probabilities: ctx.softmax(both), decision: d };
  }
  const scaled = dbl(ctx.op('Div', [pred.name, ctx.constD([k - 1], [])]), k);
  return { labelIndex: ctx.argmax(pred), probabilities: ctx.softmax(scaled), decision: pred };
}

/** The stacked member outputs (X_meta) of a Stacking estimator, passthrough columns last. */
function stackFeatures(ctx: ConvertContext, est: PyObject, x: Var, classifier: boolean): Var {
  const methods = list(est, 'stack_method_');
  const all = list(est, 'estimators_');
  const nClasses = classifier ? labels(arr(est, 'classes_')).length : 0;
  const parts: Var[] = [];
  all.forEach((m, i) => {
    if (!isPyObject(m)) return; // 'drop'
    const method = methods[i];
    if (!classifier || method === 'predict') {
      if (classifier) {
        const s = subClassifier(ctx, m, x);
        const values = ctx.constD(s.classes.map(Number));
        const idx = ctx.op('Reshape', [s.labelIndex, ctx.constI([-1, 1])]);
        parts.push(dbl(ctx.op('Gather', [values, idx], { axis: attr.i(0) }), 1));
      } else parts.push(subRegressor(ctx, m, x));
      return;
    }
    const s = subClassifier(ctx, m, x);
    if (method === 'predict_proba') {
      if (!s.probabilities) throw new UnsupportedEstimatorError(`Stacking member ${m.name} has no predict_proba`);
      const p = ctx.cast(s.probabilities, 'DOUBLE');
      parts.push(nClasses === 2 ? ctx.columns(p, [1]) : p);
    } else if (method === 'decision_function') {
      if (!s.decision) throw new UnsupportedEstimatorError(`Stacking member ${m.name} has no decision_function here`);
      parts.push(ctx.cast(s.decision, 'DOUBLE'));
    } else throw new UnsupportedEstimatorError(`Stacking stack_method '${String(method)}' is not supported`);
  });
  if (get(est, 'passthrough') === true) parts.push(ctx.cast(x, 'DOUBLE'));
  return ctx.concat(parts);
}

/** StackingClassifier: the final estimator on the stacked member outputs (labels mapped back through the encoder). */
export function stackingClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const meta = stackFeatures(ctx, est, x, true);
  const fin = subClassifier(ctx, obj(est, 'final_estimator_'), meta);
  // final_estimator_ was fitted on encoded labels: its class values are indices into classes_
  const values = ctx.constI(fin.classes.map(Number));
  const labelIndex = ctx.op('Gather', [values, ctx.op('Reshape', [fin.labelIndex, ctx.constI([-1])])], {
    axis: attr.i(0),
  });
  return {
    labelIndex,
    ...(fin.probabilities ? { probabilities: fin.probabilities } : {}),
    ...(fin.decision ? { decision: fin.decision } : {}),
  };
}

/** StackingClassifier / StackingRegressor.transform: the stacked member outputs. */
export function stackingTransform(classifier: boolean) {
  return (ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs => ({
    transform: stackFeatures(ctx, est, x, classifier),
  });
}

/** StackingRegressor: the final estimator on the stacked member predictions. */
export function stackingRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  return subRegressor(ctx, obj(est, 'final_estimator_'), stackFeatures(ctx, est, x, false));
}

/** OneVsRestClassifier (multiclass or binary, not multilabel). */
export function oneVsRest(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const lb = obj(est, 'label_binarizer_');
  if (str(lb, 'y_type_', 'multiclass') === 'multilabel-indicator') {
    throw new UnsupportedEstimatorError('multilabel OneVsRestClassifier is not supported');
  }
  const subs = members(est).map((m) => {
    if (m.name === '_ConstantPredictor')
      throw new UnsupportedEstimatorError('OneVsRestClassifier with a constant member is not supported');
    return subClassifier(ctx, m, x);
  });
  const positive = (s: (typeof subs)[number]): Var | undefined =>
    s.probabilities ? ctx.columns(ctx.cast(s.probabilities, 'DOUBLE'), [1]) : undefined;
  const score = (s: (typeof subs)[number]): Var => {
    if (s.decision) return ctx.cast(s.decision, 'DOUBLE');
    const p = positive(s);
    if (!p)
      throw new UnsupportedEstimatorError('OneVsRestClassifier member has neither decision_function nor predict_proba');
    return p;
  };
  const scores = subs.map(score);
  const hasProba = subs.every((s) => s.probabilities);
  let probabilities: Var | undefined;
  if (hasProba) {
    const pos = ctx.concat(subs.map((s) => positive(s)!));
    probabilities = subs.length === 1 ? ctx.twoColumns(pos) : ctx.normalizeRows(pos);
  }
  const decisions = subs.every((s) => s.decision) ? ctx.concat(scores) : undefined;
  if (subs.length === 1) {
    const threshold = subs[0]!.decision ? 0 : 0.5;
    const gt = ctx.op('Greater', [scores[0]!.name, ctx.constD([threshold], [])]);
    const labelIndex = ctx.op('Reshape', [ctx.op('Cast', [gt], { to: attr.i(7) }), ctx.constI([-1])]);
    return { labelIndex, ...(probabilities ? { probabilities } : {}), ...(decisions ? { decision: decisions } : {}) };
  }
  return {
    labelIndex: ctx.argmax(ctx.concat(scores)),
    ...(probabilities ? { probabilities } : {}),
    ...(decisions ? { decision: decisions } : {}),
  };
}

/** One calibrator's prediction on a [N, 1] score: sigmoid expit(−(aT + b)) or isotonic interpolation (clipped). */
function calibrate(ctx: ConvertContext, cal: PyObject, t: Var): string {
  if (cal.name === '_SigmoidCalibration') {
    const z = ctx.op('Add', [
      ctx.op('Mul', [t.name, ctx.constD([num(cal, 'a_')], [])]),
      ctx.constD([num(cal, 'b_')], []),
    ]);
    return ctx.op('Sigmoid', [ctx.op('Neg', [z])]);
  }
  if (cal.name === 'IsotonicRegression') {
    const xs = toF64(arr(cal, 'X_thresholds_'));
    const ys = toF64(arr(cal, 'y_thresholds_'));
    const oob = str(cal, 'out_of_bounds', 'nan');
    if (oob !== 'clip')
      throw new UnsupportedEstimatorError(`IsotonicRegression out_of_bounds='${oob}' is not supported`);
    if (xs.length === 1) return ctx.op('Add', [ctx.op('Mul', [t.name, ctx.constD([0], [])]), ctx.constD([ys[0]!], [])]);
    const clipped = dbl(ctx.op('Clip', [t.name, ctx.constD([xs[0]!], []), ctx.constD([xs[xs.length - 1]!], [])]), 1);
    return interpColumns(ctx, clipped, xs, xs.length, ys);
  }
  throw new UnsupportedEstimatorError(`calibrator ${cal.name} is not supported`);
}

/** One _CalibratedClassifier: per-class calibrated scores, normalized as sklearn does. */
function calibratedProba(ctx: ConvertContext, cc: PyObject, x: Var, classes: (number | string)[]): Var {
  const inner = (get(cc, 'estimator') ?? get(cc, 'base_estimator')) as PyValue;
  if (!isPyObject(inner)) throw new UnsupportedEstimatorError('_CalibratedClassifier has no estimator');
  const s = subClassifier(ctx, inner, x);
  const n = classes.length;
  let preds: Var;
  if (s.decision) preds = ctx.cast(s.decision, 'DOUBLE');
  else if (s.probabilities) {
    const p = ctx.cast(s.probabilities, 'DOUBLE');
    preds = n === 2 ? ctx.columns(p, [1]) : p;
  } else
    throw new UnsupportedEstimatorError(`calibrated ${inner.name} has neither decision_function nor predict_proba`);
  const calibrators = list(cc, 'calibrators').filter(isPyObject);
  const cols: string[] = Array.from({ length: n }, () => '');
  calibrators.forEach((cal, i) => {
    if (i >= preds.cols) return;
    const classIdx = classes.indexOf(s.classes[i]!) + (n === 2 ? 1 : 0);
    cols[classIdx] = calibrate(ctx, cal, ctx.columns(preds, [i]));
  });
  const zero = ctx.op('Mul', [ctx.columns(preds, [0]).name, ctx.constD([0], [])]);
  let proba: Var;
  if (n === 2) {
    const p1 = dbl(cols[1]!, 1);
    proba = ctx.twoColumns(p1);
  } else {
    const full = dbl(
      ctx.op(
        'Concat',
        cols.map((c) => c || zero),
        { axis: attr.i(1) },
      ),
      n,
    );
    const sum = ctx.op('ReduceSum', [full.name, ctx.constI([1])], { keepdims: attr.i(1) });
    const isZero = ctx.op('Equal', [sum, ctx.constD([0], [])]);
    const divided = ctx.op('Div', [full.name, ctx.op('Where', [isZero, ctx.constD([1], []), sum])]);
    const uniform = ctx.op('Add', [ctx.op('Mul', [full.name, ctx.constD([0], [])]), ctx.constD([1 / n], [])]);
    proba = dbl(ctx.op('Where', [isZero, uniform, divided]), n);
  }
  const over = ctx.op('And', [
    ctx.op('Less', [ctx.constD([1], []), proba.name]),
    ctx.op('LessOrEqual', [proba.name, ctx.constD([1 + 1e-5], [])]),
  ]);
  return dbl(ctx.op('Where', [over, ctx.constD([1], []), proba.name]), n);
}

/** CalibratedClassifierCV (sigmoid / isotonic): mean of the calibrated classifiers' probabilities. */
export function calibratedClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const classes = labels(arr(est, 'classes_'));
  const parts = members(est, 'calibrated_classifiers_').map((cc) => calibratedProba(ctx, cc, x, classes));
  const p = weightedSum(
    ctx,
    parts,
    parts.map(() => 1),
    parts.length,
  );
  return { labelIndex: ctx.argmax(p), probabilities: p };
}

/** inverse_transform of a TransformedTargetRegressor's transformer_ on a [N, k] prediction. */
function inverseTarget(ctx: ConvertContext, t: PyObject, y: Var): Var {
  if (t.name === 'FunctionTransformer') {
    const f = get(t, 'inverse_func');
    if (f === null || f === undefined) return y;
    const name = typeof f === 'object' && 'kind' in f && f.kind === 'global' ? f.name : '';
    const ufuncs: Record<string, () => Var> = {
      expm1: () => expm1(ctx, y),
      log1p: () => log1p(ctx, y),
      exp: () => ctx.unary('Exp', y),
      log: () => ctx.unary('Log', y),
      sqrt: () => ctx.unary('Sqrt', y),
      absolute: () => ctx.unary('Abs', y),
    };
    const g = ufuncs[name];
    if (!g)
      throw new UnsupportedEstimatorError(
        'TransformedTargetRegressor inverse_func must be a numpy ufunc (expm1, exp, log1p, log, sqrt, abs)',
      );
    return g();
  }
  if (t.name === 'LabelBinarizer') return labelBinarizerInverse(ctx, t, y);
  if (t.name === 'StandardScaler') {
    let v = y;
    if (get(t, 'scale_') !== null && get(t, 'scale_') !== undefined) {
      v = dbl(ctx.op('Mul', [v.name, ctx.constD(toF64(arr(t, 'scale_')), [1, y.cols])]), y.cols);
    }
    if (get(t, 'mean_') !== null && get(t, 'mean_') !== undefined) {
      v = dbl(ctx.op('Add', [v.name, ctx.constD(toF64(arr(t, 'mean_')), [1, y.cols])]), y.cols);
    }
    return v;
  }
  throw new UnsupportedEstimatorError(
    `TransformedTargetRegressor transformer ${t.name} is not supported (FunctionTransformer with a numpy ufunc, StandardScaler, LabelBinarizer)`,
  );
}

/** TransformedTargetRegressor: regressor_ prediction through transformer_.inverse_transform. */
export function transformedTargetRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const y = subRegressor(ctx, obj(est, 'regressor_'), x);
  return inverseTarget(ctx, obj(est, 'transformer_'), y);
}

/** AdaBoostRegressor: the weighted median of member predictions (stable order on ties, as numpy for ≤ 16 members). */
export function adaBoostRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const preds = ctx.concat(members(est).map((m) => subRegressor(ctx, m, x)));
  const e = preds.cols;
  const weights = Array.from(toF64(arr(est, 'estimator_weights_'))).slice(0, e);
  const [sorted, order] = ctx.g.node('TopK', [preds.name, ctx.constI([e])], 2, {
    axis: attr.i(1),
    largest: attr.i(0),
    sorted: attr.i(1),
  });
  const w = ctx.op('Gather', [ctx.constD(weights), order!], { axis: attr.i(0) });
  const cdf = ctx.op('CumSum', [w, ctx.constI([1], [])]);
  const total = ctx.op('Gather', [cdf, ctx.constI([e - 1], [1])], { axis: attr.i(1) });
  const above = ctx.op('GreaterOrEqual', [cdf, ctx.op('Mul', [total, ctx.constD([0.5], [])])]);
  const at = ctx.op('ArgMax', [ctx.op('Cast', [above], { to: attr.i(11) })], { axis: attr.i(1), keepdims: attr.i(1) });
  return dbl(ctx.op('GatherElements', [sorted!, at], { axis: attr.i(1) }), 1);
}

/** OneVsOneClassifier: pairwise votes plus squashed summed confidences (sklearn's _ovr_decision_function). */
export function oneVsOne(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const pi = get(est, 'pairwise_indices_');
  if (pi !== null && pi !== undefined)
    throw new UnsupportedEstimatorError('OneVsOneClassifier on a precomputed kernel is not supported');
  const n = labels(arr(est, 'classes_')).length;
  const subs = members(est).map((m) => subClassifier(ctx, m, x));
  const k = subs.length;
  const preds = ctx.concat(
    subs.map((s) => {
      const values = ctx.constD(s.classes.map(Number));
      const idx = ctx.op('Reshape', [s.labelIndex, ctx.constI([-1, 1])]);
      return dbl(ctx.op('Gather', [values, idx], { axis: attr.i(0) }), 1);
    }),
  );
  const conf = ctx.concat(
    subs.map((s) => {
      if (s.decision) return ctx.cast(s.decision, 'DOUBLE');
      if (s.probabilities) return ctx.columns(ctx.cast(s.probabilities, 'DOUBLE'), [1]);
      throw new UnsupportedEstimatorError('OneVsOneClassifier member has neither decision_function nor predict_proba');
    }),
  );
  if (k !== (n * (n - 1)) / 2)
    throw new UnsupportedEstimatorError(`OneVsOneClassifier has ${k} members for ${n} classes`);
  const y = ovrDecision(ctx, preds, conf, n);
  if (n === 2) {
    const d = ctx.columns(y, [1]);
    const threshold = subs[0]!.decision ? 0 : 0.5;
    const gt = ctx.op('Greater', [d.name, ctx.constD([threshold], [])]);
    return { labelIndex: ctx.op('Reshape', [ctx.op('Cast', [gt], { to: attr.i(7) }), ctx.constI([-1])]), decision: d };
  }
  return { labelIndex: ctx.argmax(y), decision: y };
}

/** MultiOutputRegressor: one member per target, side by side. */
export function multiOutputRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  return ctx.concat(members(est).map((m) => subRegressor(ctx, m, x)));
}

/** IsotonicRegression on its own: linear interpolation through the thresholds; outside them clip or NaN. */
export function isotonicRegression(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const oob = str(est, 'out_of_bounds', 'nan');
  if (oob === 'raise') {
    throw new UnsupportedEstimatorError(
      "IsotonicRegression(out_of_bounds='raise') is not supported (use 'clip' or 'nan')",
    );
  }
  if (x.cols !== 1) throw new UnsupportedEstimatorError('IsotonicRegression takes one input column');
  const xs = toF64(arr(est, 'X_thresholds_'));
  const ys = toF64(arr(est, 'y_thresholds_'));
  const xd = ctx.cast(x, 'DOUBLE');
  if (oob === 'clip') {
    if (xs.length === 1)
      return dbl(ctx.op('Add', [ctx.op('Mul', [xd.name, ctx.constD([0], [])]), ctx.constD([ys[0]!], [])]), 1);
    const clipped = dbl(ctx.op('Clip', [xd.name, ctx.constD([xs[0]!], []), ctx.constD([xs[xs.length - 1]!], [])]), 1);
    return dbl(interpColumns(ctx, clipped, xs, xs.length, ys), 1);
  }
  const inside = ctx.op('And', [
    ctx.op('GreaterOrEqual', [xd.name, ctx.constD([xs[0]!], [])]),
    ctx.op('LessOrEqual', [xd.name, ctx.constD([xs[xs.length - 1]!], [])]),
  ]);
  const values =
    xs.length === 1
      ? ctx.op('Add', [ctx.op('Mul', [xd.name, ctx.constD([0], [])]), ctx.constD([ys[0]!], [])])
      : interpColumns(ctx, xd, xs, xs.length, ys);
  return dbl(ctx.op('Where', [inside, values, ctx.constD([Number.NaN], [])]), 1);
}
