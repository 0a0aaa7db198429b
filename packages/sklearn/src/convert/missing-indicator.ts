/** MissingIndicator: 0/1 columns marking missing entries of the features it tracks. */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { arr, get, toF64 } from './state.js';

/** MissingIndicator (numeric input; missing_values NaN or a number): features_ columns of the missing mask, float64. */
export function missingIndicator(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const mv = get(est, 'missing_values');
  const xd = ctx.cast(x, 'DOUBLE');
  let mask: string;
  if (mv === null || mv === undefined || (typeof mv === 'number' && Number.isNaN(mv)))
    mask = ctx.op('IsNaN', [xd.name]);
  else if (typeof mv === 'number') mask = ctx.op('Equal', [xd.name, ctx.constD([mv], [])]);
  else throw new UnsupportedEstimatorError(`MissingIndicator missing_values=${String(mv)} is not supported`);
  const m: Var = { name: ctx.op('Cast', [mask], { to: attr.i(11) }), type: 'DOUBLE', cols: x.cols };
  return ctx.columns(m, Array.from(toF64(arr(est, 'features_'))));
}
