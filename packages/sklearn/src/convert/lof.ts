/**
 * LocalOutlierFactor(novelty=True) on new rows: score_samples = −mean(lrd(neighbour) / lrd(x)) over the
 * n_neighbors_ nearest training rows, decision_function = score_samples − offset_, predict = −1 where the
 * decision is < 0, else 1.
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, MethodOutputs, Var } from './context.js';
import { kneighborsMethod } from './kneighbors.js';
import { pairDistances } from './neighbor-distances.js';
import { arr, bool, num, toF64 } from './state.js';

/** LocalOutlierFactor fitted with novelty=True. */
export function localOutlierFactor(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  if (!bool(est, 'novelty', false)) {
    throw new UnsupportedEstimatorError(
      'LocalOutlierFactor(novelty=False) only labels its training data (fit_predict); refit with novelty=True to serve new rows',
    );
  }
  const k = num(est, 'n_neighbors_');
  const { dist, m } = pairDistances(ctx, est, x);
  const [values, indices] = ctx.g.node('TopK', [dist, ctx.constI([k])], 2, {
    axis: attr.i(1),
    largest: attr.i(0),
    sorted: attr.i(1),
  });
  const fitDist = arr(est, '_distances_fit_X_');
  const width = fitDist.shape[1]!;
  const all = toF64(fitDist);
  const kDist = Float64Array.from({ length: m }, (_, i) => all[i * width + k - 1]!);
  const reach = ctx.op('Max', [values!, ctx.op('Gather', [ctx.constD(kDist), indices!])]);
  const keep = { keepdims: attr.i(1) };
  const meanReach = ctx.op('ReduceMean', [reach, ctx.constI([1])], keep);
  const lrd = ctx.op('Div', [ctx.constD([1], []), ctx.op('Add', [meanReach, ctx.constD([1e-10], [])])]);
  const ratios = ctx.op('Div', [ctx.op('Gather', [ctx.constD(toF64(arr(est, '_lrd'))), indices!]), lrd]);
  const score = ctx.op('Neg', [ctx.op('ReduceMean', [ratios, ctx.constI([1])], keep)]);
  const decision = ctx.op('Sub', [score, ctx.constD([num(est, 'offset_')], [])]);
  const outlier = ctx.op('Less', [decision, ctx.constD([0], [])]);
  return {
    predict: { name: ctx.op('Where', [outlier, ctx.constI([-1], []), ctx.constI([1], [])]), type: 'INT64', cols: 1 },
    decision_function: { name: decision, type: 'DOUBLE', cols: 1 },
    score_samples: { name: score, type: 'DOUBLE', cols: 1 },
    ...kneighborsMethod(ctx, est, x),
  };
}
