/**
 * RadiusNeighborsClassifier / RadiusNeighborsRegressor: every training row within `radius` votes (uniform or
 * 1/distance; rows at distance 0 alone when there are any). Rows with no neighbour follow `outlier_label_`
 * (classifier; with outlier_label=None the request is refused, as scikit-learn raises) or give NaN (regressor), as
 * scikit-learn does.
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { type ClassifierOut, type ConvertContext, ONNX_TYPE, type Var } from './context.js';
import { pairDistances } from './neighbor-distances.js';
import { arr, get, labels, num, str, toF64 } from './state.js';

/** Weights [N, M] of the training rows for each input row, and the within-radius count [N, 1]. */
function radiusWeights(ctx: ConvertContext, est: PyObject, x: Var): { w: string; count: string; m: number } {
  const { dist, rdist, reduce, m } = pairDistances(ctx, est, x);
  const radius = num(est, 'radius');
  const within = ctx.op('Cast', [ctx.op('LessOrEqual', [rdist, ctx.constD([reduce(radius)], [])])], {
    to: attr.i(ONNX_TYPE.DOUBLE),
  });
  const count = ctx.op('ReduceSum', [within, ctx.constI([1])], { keepdims: attr.i(1) });
  const weights = str(est, 'weights', 'uniform');
  if (weights === 'uniform') return { w: within, count, m };
  if (weights !== 'distance') {
    throw new UnsupportedEstimatorError(`${est.name}(weights=${String(get(est, 'weights'))}) is not supported`);
  }
  const zero = ctx.op('Cast', [ctx.op('Equal', [dist, ctx.constD([0], [])])], { to: attr.i(ONNX_TYPE.DOUBLE) });
  const anyZero = ctx.op('Greater', [
    ctx.op('ReduceMax', [zero, ctx.constI([1])], { keepdims: attr.i(1) }),
    ctx.constD([0], []),
  ]);
  const safe = ctx.op('Where', [ctx.op('Equal', [dist, ctx.constD([0], [])]), ctx.constD([1], []), dist]);
  const inv = ctx.op('Div', [within, safe]);
  return { w: ctx.op('Where', [anyZero, zero, inv]), count, m };
}

/** Class votes [N, c] of the training rows within the radius (weighted), and the within-radius count [N, 1]. */
function classVotes(ctx: ConvertContext, est: PyObject, x: Var, c: number): { votes: string; count: string } {
  const { w, count, m } = radiusWeights(ctx, est, x);
  const y = toF64(arr(est, '_y'));
  if (y.length !== m)
    throw new UnsupportedEstimatorError(`RadiusNeighborsClassifier _y has ${y.length} labels for ${m} rows`);
  const onehot = new Float64Array(m * c);
  y.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0 || k >= c) {
      throw new UnsupportedEstimatorError(`RadiusNeighborsClassifier _y holds ${k}, not a class index below ${c}`);
    }
    onehot[i * c + k] = 1;
  });
  return { votes: ctx.op('MatMul', [w, ctx.constD(onehot, [m, c])]), count };
}

/**
 * RadiusNeighborsClassifier(outlier_label=None): scikit-learn raises for a row with no training row within the
 * radius; the graph flags such rows (`ctx.rowRefusals`) and the request is answered with a 400 naming them.
 */
function withoutOutlierLabel(ctx: ConvertContext, est: PyObject, x: Var, c: number): ClassifierOut {
  const { votes, count } = classVotes(ctx, est, x, c);
  const probabilities = ctx.normalizeRows({ name: votes, type: 'DOUBLE', cols: c });
  const none = ctx.op('Cast', [ctx.op('Equal', [count, ctx.constD([0], [])])], { to: attr.i(ONNX_TYPE.DOUBLE) });
  const reason = `have no training row within radius ${num(est, 'radius')} (the model has outlier_label=None)`;
  ctx.rowRefusals.push({ name: none, reason });
  return { labelIndex: ctx.argmax(probabilities), probabilities };
}

/** RadiusNeighborsClassifier: normalized (weighted) class votes; outliers get `outlier_label_`. */
export function radiusNeighborsClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  if (get(est, 'outputs_2d_') === true)
    throw new UnsupportedEstimatorError('multi-output RadiusNeighborsClassifier is not supported');
  const outlier = get(est, 'outlier_label_');
  const label = Array.isArray(outlier) ? outlier[0] : outlier;
  const classes = labels(arr(est, 'classes_'));
  if (label === undefined || label === null) return withoutOutlierLabel(ctx, est, x, classes.length);
  const outlierLabel = typeof label === 'bigint' ? Number(label) : label;
  if (typeof outlierLabel !== 'number' && typeof outlierLabel !== 'string')
    throw new UnsupportedEstimatorError('RadiusNeighborsClassifier outlier_label_ must be a number or a string');
  const stringClasses = classes.some((c) => typeof c === 'string');
  if (stringClasses !== (typeof outlierLabel === 'string')) {
    throw new UnsupportedEstimatorError(
      `RadiusNeighborsClassifier outlier_label ${JSON.stringify(outlierLabel)} is not of the classes' type`,
    );
  }
  const c = classes.length;
  const at = classes.indexOf(outlierLabel);
  const { votes, count } = classVotes(ctx, est, x, c);
  const outlierRow = Float64Array.from({ length: c }, (_, k) => (k === at ? 1 : 0));
  const inlier = ctx.op('Greater', [count, ctx.constD([0], [])]);
  const raw: Var = { name: ctx.op('Where', [inlier, votes, ctx.constD(outlierRow, [1, c])]), type: 'DOUBLE', cols: c };
  const probabilities = ctx.normalizeRows(raw);
  const allZero = ctx.op('Equal', [
    ctx.op('Reshape', [ctx.op('ReduceSum', [raw.name, ctx.constI([1])], { keepdims: attr.i(1) }), ctx.constI([-1])]),
    ctx.constD([0], []),
  ]);
  const labelIndex = ctx.op('Where', [allZero, ctx.constI([at >= 0 ? at : c], []), ctx.argmax(probabilities)]);
  return { labelIndex, probabilities, ...(at >= 0 ? {} : { extraLabel: outlierLabel }) };
}

/** RadiusNeighborsRegressor: (weighted) mean target of the rows within the radius; NaN where there are none. */
export function radiusNeighborsRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const yArr = arr(est, '_y');
  const t = yArr.shape.length === 2 ? yArr.shape[1]! : 1;
  const { w, m } = radiusWeights(ctx, est, x);
  const sum = ctx.op('MatMul', [w, ctx.constD(toF64(yArr), [m, t])]);
  const den = ctx.op('ReduceSum', [w, ctx.constI([1])], { keepdims: attr.i(1) });
  const mean = ctx.op('Div', [sum, den]); // 0/0 = NaN where no row is within the radius, as sklearn gives
  return { name: mean, type: 'DOUBLE', cols: t };
}
