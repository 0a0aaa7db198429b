import { attr } from '@servekit/onnx';
import { TfDtype } from '../../graph/dtypes.js';
import { normAxis, type OpLowering } from '../context.js';
import { KERNEL_TYPES } from '../dtype.js';

/** NHWC axis → its position in the NCHW tensor (the inverse of TO_NCHW). */
const NCHW_POS = [0, 2, 3, 1];

function reducedShape(shape: number[] | undefined, axes: number[] | undefined, keep: boolean): number[] | undefined {
  if (shape === undefined || axes === undefined) return undefined;
  const set = new Set(axes.map((a) => normAxis(a, shape.length)));
  return keep ? shape.map((d, i) => (set.has(i) ? 1 : d)) : shape.filter((_, i) => !set.has(i));
}

const reduce =
  (onnxOp: string, allowed: readonly number[], boolOp = false): OpLowering =>
  (cx, _node, [x, axesV]) => {
    const keep = cx.bool('keep_dims', false);
    const k = cx.known(axesV!);
    const axes = k === undefined ? undefined : cx.constNumbers(axesV!, 'axes');
    if (axes !== undefined && axes.length === 0) return [x!];
    const dt = cx.computeType(x!.dtype, allowed);
    const rank = x!.shape?.length;
    const attrs = { keepdims: attr.i(keep ? 1 : 0), noop_with_empty_axes: attr.i(1) };
    // On an NCHW-held value, reduce there when the result's dim order is the same in both layouts.
    if (axes !== undefined && rank === 4 && x!.nchw !== undefined && x!.name === undefined) {
      const set = new Set(axes.map((a) => normAxis(a, 4)));
      const kept = [0, 1, 2, 3].filter((a) => !set.has(a)).map((a) => NCHW_POS[a]!);
      if (keep || kept.every((p, i) => i === 0 || p > kept[i - 1]!)) {
        const mapped = [...set].map((a) => NCHW_POS[a]!).sort();
        const out = cx.cast(
          cx.op1(onnxOp, [cx.cast(x!.nchw, x!.dtype, dt), cx.int64s(mapped)], attrs),
          dt,
          boolOp ? TfDtype.DT_BOOL : x!.dtype,
        );
        const shape = reducedShape(x!.shape, axes, keep);
        return [keep ? { dtype: x!.dtype, shape, nchw: out } : { dtype: x!.dtype, shape, name: out }];
      }
    }
    const axesName = axes !== undefined ? cx.int64s(axes) : cx.refInt64(axesV!);
    const out = cx.op1(onnxOp, [cx.refAs(x!, dt), axesName], attrs);
    return [
      {
        dtype: x!.dtype,
        shape: reducedShape(x!.shape, axes, keep),
        name: cx.cast(out, dt, boolOp ? TfDtype.DT_BOOL : x!.dtype),
      },
    ];
  };

const argReduce =
  (onnxOp: 'ArgMax' | 'ArgMin'): OpLowering =>
  (cx, _node, [x, dim]) => {
    const axis = cx.constNumbers(dim!, 'dimension')[0] ?? 0;
    const outType = cx.type('output_type', TfDtype.DT_INT64);
    const dt = cx.computeType(x!.dtype, KERNEL_TYPES.arith);
    const out = cx.op1(onnxOp, [cx.refAs(x!, dt)], { axis: attr.i(axis), keepdims: attr.i(0) });
    const shape = reducedShape(x!.shape, [axis], false);
    return [{ dtype: outType, shape, name: cx.cast(out, TfDtype.DT_INT64, outType) }];
  };

const softmax =
  (onnxOp: 'Softmax' | 'LogSoftmax'): OpLowering =>
  (cx, _node, [x]) => {
    const dt = cx.computeType(x!.dtype, KERNEL_TYPES.float);
    if (x!.nchw !== undefined && x!.name === undefined) {
      const out = cx.op1(onnxOp, [cx.cast(x!.nchw, x!.dtype, dt)], { axis: attr.i(1) });
      return [{ dtype: x!.dtype, shape: x!.shape, nchw: cx.cast(out, dt, x!.dtype) }];
    }
    const out = cx.op1(onnxOp, [cx.refAs(x!, dt)], { axis: attr.i(-1) });
    return [{ dtype: x!.dtype, shape: x!.shape, name: cx.cast(out, dt, x!.dtype) }];
  };

/** Reductions (Mean/Sum/Max/Min/Prod/All/Any), ArgMax/ArgMin, Softmax/LogSoftmax. */
export const reduceOps: Record<string, OpLowering> = {
  Mean: reduce('ReduceMean', KERNEL_TYPES.float),
  Sum: reduce('ReduceSum', KERNEL_TYPES.arith),
  Max: reduce('ReduceMax', KERNEL_TYPES.arith),
  Min: reduce('ReduceMin', KERNEL_TYPES.arith),
  Prod: reduce('ReduceProd', KERNEL_TYPES.arith),
  All: reduce('ReduceMin', [TfDtype.DT_INT32], true),
  Any: reduce('ReduceMax', [TfDtype.DT_INT32], true),
  ArgMax: argReduce('ArgMax'),
  ArgMin: argReduce('ArgMin'),
  Softmax: softmax('Softmax'),
  LogSoftmax: softmax('LogSoftmax'),
};
