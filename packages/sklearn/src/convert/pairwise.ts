/** Pairwise distances between input rows and rows fixed at conversion time, as ONNX ops (float64). */
import { attr } from '@servekit/onnx';
import type { ConvertContext, Var } from './context.js';

/** Squared euclidean distances [N, K] as sklearn's euclidean_distances: ‖x‖² − 2x·c + ‖c‖², clipped at 0. */
export function squaredDistances(ctx: ConvertContext, x: Var, centers: Float64Array, k: number): string {
  const f = x.cols;
  const xd = ctx.cast(x, 'DOUBLE');
  const ct = new Float64Array(f * k);
  const cc = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < f; j++) {
      const v = centers[i * f + j]!;
      ct[j * k + i] = v;
      cc[i]! += v * v;
    }
  }
  const dot = ctx.op('MatMul', [xd.name, ctx.constD(ct, [f, k])]);
  const xx = ctx.op('ReduceSumSquare', [xd.name, ctx.constI([1])], { keepdims: attr.i(1) });
  const d = ctx.op('Add', [ctx.op('Add', [ctx.op('Mul', [dot, ctx.constD([-2], [])]), xx]), ctx.constD(cc, [1, k])]);
  return ctx.op('Max', [d, ctx.constD([0], [])]);
}
