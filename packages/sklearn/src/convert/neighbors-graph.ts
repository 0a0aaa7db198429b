/**
 * KNeighborsTransformer / RadiusNeighborsTransformer `transform`: scikit-learn's sparse neighbours graph served
 * dense, DOUBLE [N, n_samples_fit]: mode 'connectivity' puts 1 and mode 'distance' the distance at each neighbour
 * (0 elsewhere, as `.toarray()` gives). The server bounds N × n_samples_fit by its decoded-bytes budget.
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { type ConvertContext, ONNX_TYPE, type Var } from './context.js';
import { nearestRows } from './kneighbors.js';
import { filled } from './math.js';
import { pairDistances } from './neighbor-distances.js';
import { num, str } from './state.js';

function graphMode(est: PyObject): 'distance' | 'connectivity' {
  const mode = str(est, 'mode', 'distance');
  if (mode !== 'distance' && mode !== 'connectivity')
    throw new UnsupportedEstimatorError(`${est.name}(mode='${mode}') is not supported (distance, connectivity)`);
  return mode;
}

/** KNeighborsTransformer.transform: kneighbors_graph with n_neighbors (+1 in mode 'distance', as scikit-learn). */
export function kNeighborsTransformer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const mode = graphMode(est);
  const k = num(est, 'n_neighbors', 5) + (mode === 'distance' ? 1 : 0);
  const { distances, indices, m } = nearestRows(ctx, est, x, k);
  const zeros = filled(ctx, x, m, 0).name;
  const updates = mode === 'distance' ? distances.name : filled(ctx, x, k, 1).name;
  const dense = ctx.op('ScatterElements', [zeros, indices.name, updates], { axis: attr.i(1) });
  return { name: dense, type: 'DOUBLE', cols: m };
}

/** RadiusNeighborsTransformer.transform: radius_neighbors_graph (training rows within `radius`, bound included). */
export function radiusNeighborsTransformer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const mode = graphMode(est);
  const { dist, rdist, reduce, m } = pairDistances(ctx, est, x);
  const within = ctx.op('LessOrEqual', [rdist, ctx.constD([reduce(num(est, 'radius', 1))], [])]);
  const dense =
    mode === 'distance'
      ? ctx.op('Where', [within, dist, ctx.constD([0], [])])
      : ctx.op('Cast', [within], { to: attr.i(ONNX_TYPE.DOUBLE) });
  return { name: dense, type: 'DOUBLE', cols: m };
}
