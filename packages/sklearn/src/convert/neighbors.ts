/** KNeighborsClassifier / KNeighborsRegressor: brute-force distances to the stored training set, TopK, vote/average. */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ClassifierOut, ConvertContext, Var } from './context.js';
import { pairDistances } from './neighbor-distances.js';
import { arr, num, str, toF64 } from './state.js';

interface Neighbours {
  /** INT64 [N, k] indices into the training set. */
  indices: string;
  /** DOUBLE [N, k] distances. */
  distances: string;
  k: number;
  /** DOUBLE [N, k] weights (uniform: 1). */
  weights: string;
}

/** Distances [N, M] to the training rows, as the estimator's fitted search method computes them. */
function distances(ctx: ConvertContext, est: PyObject, x: Var): string {
  return pairDistances(ctx, est, x).dist;
}

function neighbours(ctx: ConvertContext, est: PyObject, x: Var): Neighbours {
  const k = num(est, 'n_neighbors', 5);
  const d = distances(ctx, est, x);
  const [values, indices] = ctx.g.node('TopK', [d, ctx.constI([k])], 2, {
    axis: attr.i(1),
    largest: attr.i(0),
    sorted: attr.i(1),
  });
  const w = str(est, 'weights', 'uniform');
  let weights: string;
  if (w === 'uniform') weights = ctx.op('Add', [ctx.op('Mul', [values!, ctx.constD([0], [])]), ctx.constD([1], [])]);
  else if (w === 'distance') {
    // 1/d; rows with an exact match use only the matching neighbours (weight 1), as sklearn does
    const zero = ctx.op('Equal', [values!, ctx.constD([0], [])]);
    const anyZero = ctx.op('Greater', [
      ctx.op('ReduceMax', [ctx.op('Cast', [zero], { to: attr.i(11) }), ctx.constI([1])], { keepdims: attr.i(1) }),
      ctx.constD([0], []),
    ]);
    const inv = ctx.op('Div', [ctx.constD([1], []), ctx.op('Where', [zero, ctx.constD([1], []), values!])]);
    weights = ctx.op('Where', [anyZero, ctx.op('Cast', [zero], { to: attr.i(11) }), inv]);
  } else throw new UnsupportedEstimatorError(`${est.name}(weights=${String(w)}) is not supported`);
  return { indices: indices!, distances: values!, k, weights };
}

/** KNeighborsClassifier: (weighted) class frequencies among the k nearest training rows. */
export function kNeighborsClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const nb = neighbours(ctx, est, x);
  const classes = arr(est, 'classes_');
  if (classes.shape.length !== 1)
    throw new UnsupportedEstimatorError('multi-output KNeighborsClassifier is not supported');
  const c = classes.shape[0]!;
  const y = Array.from(toF64(arr(est, '_y')));
  const cls = ctx.op('Gather', [ctx.constI(y), nb.indices]); // [N, k] class indices
  const onehot = ctx.op(
    'Cast',
    [
      ctx.op('Equal', [
        ctx.op('Unsqueeze', [cls, ctx.constI([2])]),
        ctx.constI(
          Array.from({ length: c }, (_, i) => i),
          [1, 1, c],
        ),
      ]),
    ],
    { to: attr.i(11) },
  );
  const weighted = ctx.op('Mul', [onehot, ctx.op('Unsqueeze', [nb.weights, ctx.constI([2])])]);
  const votes: Var = {
    name: ctx.op('ReduceSum', [weighted, ctx.constI([1])], { keepdims: attr.i(0) }),
    type: 'DOUBLE',
    cols: c,
  };
  const probabilities = ctx.normalizeRows(votes);
  return { labelIndex: ctx.argmax(probabilities), probabilities };
}

/** KNeighborsRegressor: (weighted) mean target of the k nearest training rows. */
export function kNeighborsRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const nb = neighbours(ctx, est, x);
  const yArr = arr(est, '_y');
  if (yArr.shape.length !== 1) throw new UnsupportedEstimatorError('multi-output KNeighborsRegressor is not supported');
  const yv = ctx.op('Gather', [ctx.constD(toF64(yArr)), nb.indices]);
  const num_ = ctx.op('ReduceSum', [ctx.op('Mul', [yv, nb.weights]), ctx.constI([1])], { keepdims: attr.i(1) });
  const den = ctx.op('ReduceSum', [nb.weights, ctx.constI([1])], { keepdims: attr.i(1) });
  return { name: ctx.op('Div', [num_, den]), type: 'DOUBLE', cols: 1 };
}
