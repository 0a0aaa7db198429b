/** KernelCenterer: K − K_fit_rows_ − (row means of K) + K_fit_all_, for a kernel matrix against the fitted rows. */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { arr, num, toF64 } from './state.js';

/** KernelCenterer.transform. */
export function kernelCenterer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const rows = toF64(arr(est, 'K_fit_rows_'));
  if (rows.length !== x.cols)
    throw new UnsupportedEstimatorError(`KernelCenterer expects ${rows.length} columns but its input has ${x.cols}`);
  const k = ctx.cast(x, 'DOUBLE');
  const predCols = ctx.op('Div', [
    ctx.op('ReduceSum', [k.name, ctx.constI([1])], { keepdims: attr.i(1) }),
    ctx.constD([rows.length], []),
  ]);
  const centred = ctx.op('Sub', [ctx.op('Sub', [k.name, ctx.constD(rows, [1, rows.length])]), predCols]);
  return { name: ctx.op('Add', [centred, ctx.constD([num(est, 'K_fit_all_')], [])]), type: 'DOUBLE', cols: x.cols };
}
