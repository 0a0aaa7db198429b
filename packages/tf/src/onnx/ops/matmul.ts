import { attr } from '@servekit/onnx';
import { floatsOf, reshapeConst } from '../const.js';
import type { LowerContext, OpLowering, Value } from '../context.js';
import { KERNEL_TYPES } from '../dtype.js';
import { elementwise } from './elementwise.js';

/** Swap the last two dims of `v` (needs its rank). */
function swapLast(cx: LowerContext, v: Value): string {
  const rank = v.shape?.length;
  if (rank === undefined) throw cx.refusal('adj_x/adj_y need the operand rank, which is unknown');
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return cx.op1('Transpose', [cx.ref(v)], { perm: attr.ints(perm) });
}

function matmulShape(a: number[] | undefined, b: number[] | undefined, ta: boolean, tb: boolean): number[] | undefined {
  if (a === undefined || b === undefined) return undefined;
  const m = ta ? a[a.length - 1]! : a[a.length - 2]!;
  const n = tb ? b[b.length - 2]! : b[b.length - 1]!;
  const batch = a.length >= b.length ? a.slice(0, -2) : b.slice(0, -2);
  return [...batch, m, n];
}

const batchMatMul: OpLowering = (cx, _node, [a, b]) => {
  const adjX = cx.bool('adj_x', false);
  const adjY = cx.bool('adj_y', false);
  const outType = cx.type('Tout', a!.dtype);
  const dt = cx.computeType(a!.dtype, KERNEL_TYPES.arith);
  const x = adjX ? swapLast(cx, a!) : cx.ref(a!);
  const y = adjY ? swapLast(cx, b!) : cx.ref(b!);
  const out = cx.op1('MatMul', [cx.cast(x, a!.dtype, dt), cx.cast(y, b!.dtype, dt)]);
  return [{ dtype: outType, shape: matmulShape(a!.shape, b!.shape, adjX, adjY), name: cx.cast(out, dt, outType) }];
};

/** Add a per-channel bias into a foldable Conv/Gemm node; false when it cannot. */
export function foldBias(cx: LowerContext, x: Value, bias: Value, inputIndex = 0): boolean {
  const f = x.foldable;
  const b = bias.konst;
  if (f === undefined || b === undefined || b.data.length !== f.channels || cx.usesOfInput(inputIndex) !== 1)
    return false;
  if (!(b.data instanceof Float32Array)) return false;
  const node = f.node;
  const old = node.inputs[2] === undefined ? undefined : cx.ir.inits.get(node.inputs[2]);
  const sum = Float32Array.from(b.data);
  if (old !== undefined) {
    const o = floatsOf(old);
    for (let i = 0; i < sum.length; i++) sum[i]! += o[i]!;
  }
  node.inputs[2] = cx.ir.fresh('bias');
  cx.ir.inits.set(node.inputs[2], { dtype: b.dtype, shape: [f.channels], data: sum });
  return true;
}

/** MatMul (as Gemm), BatchMatMul/V2/V3, BiasAdd, Einsum. */
export const matmulOps: Record<string, OpLowering> = {
  MatMul: (cx, _node, [a, b]) => {
    const ta = cx.bool('transpose_a', false);
    const tb = cx.bool('transpose_b', false);
    const shape = matmulShape(a!.shape, b!.shape, ta, tb);
    if (!KERNEL_TYPES.float.includes(a!.dtype as 1 | 2)) {
      const dt = cx.computeType(a!.dtype, KERNEL_TYPES.arith);
      const perm = attr.ints([1, 0]);
      const x = ta ? cx.op1('Transpose', [cx.refAs(a!, dt)], { perm }) : cx.refAs(a!, dt);
      const y = tb ? cx.op1('Transpose', [cx.refAs(b!, dt)], { perm }) : cx.refAs(b!, dt);
      return [{ dtype: a!.dtype, shape, name: cx.cast(cx.op1('MatMul', [x, y]), dt, a!.dtype) }];
    }
    const node = cx.ir.add('Gemm', [cx.ref(a!), cx.ref(b!)], {
      transA: attr.i(ta ? 1 : 0),
      transB: attr.i(tb ? 1 : 0),
    });
    const n = b!.shape?.[tb ? 0 : 1];
    const fresh = b!.konst !== undefined && n !== undefined && n > 0;
    return [
      {
        dtype: a!.dtype,
        shape,
        name: node.outputs[0]!,
        foldable: fresh ? { node, channelAxis: 1, channels: n } : undefined,
      },
    ];
  },
  BatchMatMul: batchMatMul,
  BatchMatMulV2: batchMatMul,
  BatchMatMulV3: batchMatMul,
  BiasAdd: (cx, _node, [x, bias]) => {
    if (x!.foldable !== undefined && foldBias(cx, x!, bias!)) return [{ ...x!, foldable: x!.foldable }];
    const nchwData = cx.str('data_format', 'NHWC') === 'NCHW';
    if (!nchwData) return [elementwise(cx, [x!, bias!], KERNEL_TYPES.arith, (n) => cx.op1('Add', n))];
    const rank = x!.shape?.length;
    if (rank === undefined) throw cx.refusal('NCHW BiasAdd needs the input rank, which is unknown');
    const dims = [-1, ...new Array<number>(rank - 2).fill(1)];
    const b =
      bias!.konst !== undefined
        ? cx.init(reshapeConst(bias!.konst, [bias!.konst.data.length, ...dims.slice(1)]))
        : cx.op1('Reshape', [cx.ref(bias!), cx.int64s(dims)]);
    const dt = cx.computeType(x!.dtype, KERNEL_TYPES.arith);
    const out = cx.op1('Add', [cx.refAs(x!, dt), cx.cast(b, bias!.dtype, dt)]);
    return [{ dtype: x!.dtype, shape: x!.shape, name: cx.cast(out, dt, x!.dtype) }];
  },
  Einsum: (cx, _node, inputs) => {
    const dt = cx.computeType(inputs[0]!.dtype, KERNEL_TYPES.arith);
    const out = cx.op1(
      'Einsum',
      inputs.map((v) => cx.refAs(v, dt)),
      { equation: attr.s(cx.str('equation', '')) },
    );
    return [{ dtype: inputs[0]!.dtype, name: cx.cast(out, dt, inputs[0]!.dtype) }];
  },
};
