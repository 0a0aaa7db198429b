/**
 * The `kneighbors` method of NearestNeighbors, KNeighborsTransformer and the KNeighbors* estimators: the k nearest
 * training rows of each input row, nearest first, as distances (DOUBLE [N, k]) and indices (INT64 [N, k]), from
 * the same distances the estimator's fitted search computes (neighbor-distances.ts). Exactly equal distances come
 * in ascending training-row order (TopK's rule); scikit-learn's order among them is an artefact of its heap and
 * tree layout.
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, MethodOutputs, Var } from './context.js';
import { pairDistances } from './neighbor-distances.js';
import { num } from './state.js';

/** The k nearest training rows: DOUBLE [N, k] distances and INT64 [N, k] indices, nearest first. */
export interface NearestRows {
  distances: Var;
  indices: Var;
  /** Training rows (the width of a dense neighbours graph). */
  m: number;
}

/** The `k` nearest training rows of each row of `x` (k defaults to the estimator's n_neighbors). */
export function nearestRows(ctx: ConvertContext, est: PyObject, x: Var, k = num(est, 'n_neighbors', 5)): NearestRows {
  const { dist, m } = pairDistances(ctx, est, x);
  if (!(Number.isInteger(k) && k >= 1))
    throw new UnsupportedEstimatorError(`${est.name}.n_neighbors=${k} is not a positive integer`);
  if (k > m) {
    throw new UnsupportedEstimatorError(
      `${est.name} asks for ${k} neighbours of a training set of ${m} rows (scikit-learn raises for every request)`,
    );
  }
  const [values, indices] = ctx.g.node('TopK', [dist, ctx.constI([k])], 2, {
    axis: attr.i(1),
    largest: attr.i(0),
    sorted: attr.i(1),
  });
  return {
    distances: { name: values!, type: 'DOUBLE', cols: k },
    indices: { name: indices!, type: 'INT64', cols: k },
    m,
  };
}

/** `kneighbors(X)`: distances and indices of the n_neighbors nearest training rows. */
export function kneighborsMethod(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const { distances, indices } = nearestRows(ctx, est, x);
  return { kneighbors: distances, kneighborsIndices: indices };
}
