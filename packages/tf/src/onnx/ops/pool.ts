import { type Attr, attr } from '@servekit/onnx';
import type { OpLowering } from '../context.js';
import { nchwInput, nchwOutput, paddingAttrs, spatialOf, windowOf } from './conv.js';

const pool =
  (onnxOp: 'MaxPool' | 'AveragePool'): OpLowering =>
  (cx, _node, [x]) => {
    if (x!.dtype !== 1 && x!.dtype !== 2) throw cx.refusal('pooling is lowered for float32/float64 only');
    const w = windowOf(cx);
    const k = cx.ints('ksize', [1, 1, 1, 1]);
    const kernel = w.nchwData ? [k[2]!, k[3]!] : [k[1]!, k[2]!];
    const pad = paddingAttrs(cx, spatialOf(x!, w.nchwData), kernel, { ...w, dilations: [1, 1] });
    const extra: Record<string, Attr> = onnxOp === 'AveragePool' ? { count_include_pad: attr.i(0) } : {};
    const out = cx.op1(onnxOp, [nchwInput(cx, x!, w)], {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(w.strides),
      ...pad.attrs,
      ...extra,
    });
    const c = x!.shape?.length === 4 ? x!.shape[w.nchwData ? 1 : 3]! : -1;
    return [nchwOutput(x!, w, out, x!.shape?.[0] ?? -1, c, pad.outHW)];
  };

/** MaxPool, AvgPool. */
export const poolOps: Record<string, OpLowering> = {
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
};
