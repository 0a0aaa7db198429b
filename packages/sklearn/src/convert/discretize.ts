/** Binarizer and KBinsDiscretizer (ordinal, onehot, onehot-dense). */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isNdArray } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { oneHotEncoder } from './preprocessing.js';
import { list, num, obj, str, toF64 } from './state.js';

/** Binarizer: 1 where x > threshold, else 0 (float64). */
export function binarizer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const xd = ctx.cast(x, 'DOUBLE');
  const gt = ctx.op('Greater', [xd.name, ctx.constD([num(est, 'threshold', 0)], [])]);
  return { name: ctx.op('Cast', [gt], { to: attr.i(11) }), type: 'DOUBLE', cols: x.cols };
}

/** KBinsDiscretizer: bin index = searchsorted(bin_edges_[j][1:-1], x, side='right'); one-hot through its _encoder. */
export function kBinsDiscretizer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const edges = list(est, 'bin_edges_').map((e) => {
    if (!isNdArray(e)) throw new UnsupportedEstimatorError('KBinsDiscretizer.bin_edges_ entries must be arrays');
    return toF64(e).slice(1, -1);
  });
  if (edges.length !== x.cols) {
    throw new UnsupportedEstimatorError(
      `KBinsDiscretizer expects ${edges.length} features but its input has ${x.cols}`,
    );
  }
  const m = Math.max(1, ...edges.map((e) => e.length));
  const padded = new Float64Array(x.cols * m).fill(Number.POSITIVE_INFINITY);
  edges.forEach((e, j) => {
    padded.set(e, j * m);
  });
  const xd = ctx.cast(x, 'DOUBLE');
  const x3 = ctx.op('Unsqueeze', [xd.name, ctx.constI([2])]); // [N, F, 1]
  const le = ctx.op('LessOrEqual', [ctx.constD(padded, [1, x.cols, m]), x3]); // edge <= x
  const count = ctx.op('ReduceSum', [ctx.op('Cast', [le], { to: attr.i(11) }), ctx.constI([2])], {
    keepdims: attr.i(0),
  });
  const ordinal: Var = { name: count, type: 'DOUBLE', cols: x.cols };
  const encode = str(est, 'encode', 'onehot');
  if (encode === 'ordinal') return ordinal;
  if (encode !== 'onehot' && encode !== 'onehot-dense') {
    throw new UnsupportedEstimatorError(`KBinsDiscretizer encode='${encode}' is not supported`);
  }
  return oneHotEncoder(ctx, obj(est, '_encoder'), ordinal);
}
