import { attr } from '@servekit/onnx';
import { baseDtype, TfDtype } from '../../graph/dtypes.js';
import { constOf, numbersOf } from '../const.js';
import type { OpLowering } from '../context.js';
import { isFloat, onnxTypeCode } from '../dtype.js';

const identity: OpLowering = (_cx, _node, inputs) => [inputs[0]!];

/** Identity-like ops, PlaceholderWithDefault, NoOp and Cast. */
export const basicOps: Record<string, OpLowering> = {
  Identity: identity,
  StopGradient: identity,
  Snapshot: identity,
  PlaceholderWithDefault: identity,
  IdentityN: (_cx, _node, inputs) => inputs,
  NoOp: () => [],
  Cast: (cx, _node, [x]) => {
    const to = baseDtype(cx.type('DstT', x!.dtype));
    const k = cx.known(x!);
    if (k !== undefined && k.data.length <= 64 && to !== TfDtype.DT_HALF && to !== TfDtype.DT_BFLOAT16) {
      const from = isFloat(k.dtype) && !isFloat(to);
      const vals = numbersOf(k).map((v) => (to === TfDtype.DT_BOOL ? (v !== 0 ? 1 : 0) : from ? Math.trunc(v) : v));
      return [cx.constValue(constOf(to, k.shape, vals))];
    }
    if (x!.partial !== undefined && !isFloat(to) && to !== TfDtype.DT_BOOL) {
      return [{ ...x!, dtype: to, name: x!.name && cx.cast(x!.name, x!.dtype, to), konst: undefined }];
    }
    const layoutFree = x!.nchw !== undefined && x!.name === undefined;
    const src = layoutFree ? x!.nchw! : cx.ref(x!);
    const out = cx.op1('Cast', [src], { to: attr.i(onnxTypeCode(to)) });
    return [layoutFree ? { dtype: to, shape: x!.shape, nchw: out } : { dtype: to, shape: x!.shape, name: out }];
  },
};
