import { type Attr, attr } from '@servekit/onnx';
import { shapeSize } from '../../graph/host-tensor.js';
import { type ConstData, floatsOf, reshapeConst, transposeConst } from '../const.js';
import { type LowerContext, type OpLowering, TO_NHWC, type Value } from '../context.js';
import { KERNEL_TYPES } from '../dtype.js';
import { elementwise } from './elementwise.js';

/** HWIO → OIHW (also the Conv2DBackpropInput filter [H, W, out, in] → ConvTranspose's [in, out, H, W]). */
const HWIO_TO_OIHW = [3, 2, 0, 1];

/** Window geometry of a conv/pool node, in NCHW order. */
export interface Window {
  /** NCHW data (`data_format` NCHW) rather than NHWC. */
  nchwData: boolean;
  /** [sh, sw]. */
  strides: number[];
  /** [dh, dw]. */
  dilations: number[];
}

/** Strides and dilations of the current node from its data-format-ordered attrs. */
export function windowOf(cx: LowerContext): Window {
  const nchwData = cx.str('data_format', 'NHWC') === 'NCHW';
  const hw = (v: number[]): number[] => (nchwData ? [v[2] ?? 1, v[3] ?? 1] : [v[1] ?? 1, v[2] ?? 1]);
  return { nchwData, strides: hw(cx.ints('strides', [1, 1, 1, 1])), dilations: hw(cx.ints('dilations', [1, 1, 1, 1])) };
}

/** Spatial [H, W] of a value's static shape in its data format (-1 unknown). */
export function spatialOf(v: Value, nchwData: boolean): number[] {
  const s = v.shape;
  if (s === undefined || s.length !== 4) return [-1, -1];
  return nchwData ? [s[2]!, s[3]!] : [s[1]!, s[2]!];
}

/**
 * ONNX padding attrs for TF `padding`: VALID → none; SAME → explicit pads when the input size is known (as tf2onnx),
 * else auto_pad SAME_UPPER (TF puts the odd pixel at the end too); EXPLICIT → explicit_paddings.
 */
export function paddingAttrs(
  cx: LowerContext,
  inHW: number[],
  kernel: number[],
  w: Window,
): { attrs: Record<string, Attr>; outHW: number[] } {
  const padding = cx.str('padding', 'VALID');
  const eff = kernel.map((k, i) => (k - 1) * w.dilations[i]! + 1);
  if (padding === 'VALID') {
    return {
      attrs: { pads: attr.ints([0, 0, 0, 0]) },
      outHW: inHW.map((n, i) => (n < 0 ? -1 : Math.floor((n - eff[i]!) / w.strides[i]!) + 1)),
    };
  }
  if (padding === 'EXPLICIT') {
    const p = cx.ints('explicit_paddings', []);
    const pairs = w.nchwData ? [p.slice(4, 6), p.slice(6, 8)] : [p.slice(2, 4), p.slice(4, 6)];
    const pads = [pairs[0]![0] ?? 0, pairs[1]![0] ?? 0, pairs[0]![1] ?? 0, pairs[1]![1] ?? 0];
    return {
      attrs: { pads: attr.ints(pads) },
      outHW: inHW.map((n, i) => (n < 0 ? -1 : Math.floor((n + pads[i]! + pads[i + 2]! - eff[i]!) / w.strides[i]!) + 1)),
    };
  }
  if (padding !== 'SAME') throw cx.refusal(`padding "${padding}" is not supported`);
  const outHW = inHW.map((n, i) => (n < 0 ? -1 : Math.ceil(n / w.strides[i]!)));
  if (inHW.some((n) => n < 0)) {
    // Stride 1: the total padding is eff - 1 whatever the size. Else SAME_UPPER, which onnxruntime lacks with dilation.
    if (w.strides.every((s) => s === 1)) {
      const before = eff.map((e) => Math.floor((e - 1) / 2));
      return { attrs: { pads: attr.ints([...before, ...eff.map((e, i) => e - 1 - before[i]!)]) }, outHW };
    }
    if (w.dilations.some((d) => d !== 1))
      throw cx.refusal('SAME padding with strides and dilations needs the input height/width, which are unknown');
    return { attrs: { auto_pad: attr.s('SAME_UPPER') }, outHW };
  }
  const total = inHW.map((n, i) => Math.max((outHW[i]! - 1) * w.strides[i]! + eff[i]! - n, 0));
  const pads = [Math.floor(total[0]! / 2), Math.floor(total[1]! / 2)];
  return { attrs: { pads: attr.ints([pads[0]!, pads[1]!, total[0]! - pads[0]!, total[1]! - pads[1]!]) }, outHW };
}

/** The input of a conv-like op as an NCHW tensor. */
export const nchwInput = (cx: LowerContext, x: Value, w: Window): string => {
  if (w.nchwData) return cx.ref(x);
  if (x.shape !== undefined && x.shape.length !== 4) throw cx.refusal('only 4-D (2-D spatial) inputs are supported');
  return cx.refNchw(x);
};

/** The output value of a conv-like op computed as NCHW `out`. */
export function nchwOutput(x: Value, w: Window, out: string, n: number, c: number, hw: number[]): Value {
  const nchwShape = [n, c, hw[0]!, hw[1]!];
  if (w.nchwData) return { dtype: x.dtype, shape: nchwShape, name: out };
  return { dtype: x.dtype, shape: TO_NHWC.map((p) => nchwShape[p]!), nchw: out };
}

const batchOf = (x: Value): number => x.shape?.[0] ?? -1;

function convWeights(cx: LowerContext, w: Value, perm: number[], shape?: number[]): { name: string; fresh: boolean } {
  if (w.konst !== undefined) {
    const t = transposeConst(w.konst, perm);
    const c = shape === undefined ? t : reshapeConst(t, shape);
    const name = cx.ir.fresh('weights');
    cx.ir.inits.set(name, c);
    return { name, fresh: true };
  }
  let name = cx.op1('Transpose', [cx.ref(w)], { perm: attr.ints(perm) });
  if (shape !== undefined) name = cx.op1('Reshape', [name, cx.int64s(shape)]);
  return { name, fresh: false };
}

function requireFloat(cx: LowerContext, x: Value): void {
  if (!(KERNEL_TYPES.float as readonly number[]).includes(x.dtype))
    throw cx.refusal('convolutions are lowered for float32/float64 only');
}

/** The [H, W, in, out]-style dims of a 4-D filter of known shape; refused otherwise. */
function filterDims(cx: LowerContext, f: Value): [number, number, number, number] {
  if (f.shape === undefined || f.shape.length !== 4) throw cx.refusal('the filter must be 4-D with a known shape');
  return f.shape as [number, number, number, number];
}

/** An NCHW ONNX Conv of `x` with OIHW weights `W` in `group` groups, giving `channels` output channels. */
function groupedConv(
  cx: LowerContext,
  x: Value,
  kernel: [number, number],
  W: { name: string; fresh: boolean },
  group: number,
  channels: number,
): Value {
  const w = windowOf(cx);
  const pad = paddingAttrs(cx, spatialOf(x, w.nchwData), kernel, w);
  const node = cx.ir.add('Conv', [nchwInput(cx, x, w), W.name], {
    kernel_shape: attr.ints(kernel),
    strides: attr.ints(w.strides),
    dilations: attr.ints(w.dilations),
    group: attr.i(group),
    ...pad.attrs,
  });
  const v = nchwOutput(x, w, node.outputs[0]!, batchOf(x), channels, pad.outHW);
  if (W.fresh) v.foldable = { node, channelAxis: 0, channels };
  return v;
}

const conv2d: OpLowering = (cx, _node, [x, f]) => {
  requireFloat(cx, x!);
  const nchwData = windowOf(cx).nchwData;
  const [kh, kw, ci, co] = filterDims(cx, f!);
  const inC = x!.shape?.length === 4 ? x!.shape[nchwData ? 1 : 3]! : -1;
  const group = inC > 0 && ci > 0 && inC !== ci ? inC / ci : 1;
  return [groupedConv(cx, x!, [kh, kw], convWeights(cx, f!, HWIO_TO_OIHW), group, co)];
};

const depthwise: OpLowering = (cx, _node, [x, f]) => {
  requireFloat(cx, x!);
  const [kh, kw, c, m] = filterDims(cx, f!);
  return [groupedConv(cx, x!, [kh, kw], convWeights(cx, f!, [2, 3, 0, 1], [c * m, 1, kh, kw]), c, c * m)];
};

const convTranspose: OpLowering = (cx, _node, [sizes, f, dy]) => {
  requireFloat(cx, dy!);
  const w = windowOf(cx);
  const [kh, kw, co] = filterDims(cx, f!);
  const elems = cx.known(sizes!) ? Array.from(cx.constNumbers(sizes!, 'input_sizes')) : sizes!.partial;
  const outHW = elems === undefined ? [] : w.nchwData ? [elems[2], elems[3]] : [elems[1], elems[2]];
  const inHW = spatialOf(dy!, w.nchwData);
  if (!outHW.every((e) => typeof e === 'number') || outHW.length !== 2 || inHW.some((n) => n < 0))
    throw cx.refusal('the output height/width and the input height/width must be known when converting');
  const out = outHW as number[];
  const same = cx.str('padding', 'VALID') === 'SAME';
  const pads: number[] = [0, 0, 0, 0];
  const outPad: number[] = [0, 0];
  for (let i = 0; i < 2; i++) {
    const k = [kh, kw][i]!;
    const eff = (k - 1) * w.dilations[i]! + 1;
    const full = (inHW[i]! - 1) * w.strides[i]! + eff;
    const total = same ? Math.max(full - out[i]!, 0) : 0;
    pads[i] = Math.floor(total / 2);
    pads[i + 2] = total - pads[i]!;
    outPad[i] = out[i]! - (full - total);
    if (outPad[i]! < 0 || outPad[i]! >= Math.max(w.strides[i]!, w.dilations[i]!))
      throw cx.refusal(`output size ${out[i]} does not match the input size ${inHW[i]} and the stride`);
  }
  const W = convWeights(cx, f!, HWIO_TO_OIHW);
  const node = cx.ir.add('ConvTranspose', [nchwInput(cx, dy!, w), W.name], {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints(w.strides),
    dilations: attr.ints(w.dilations),
    pads: attr.ints(pads),
    output_padding: attr.ints(outPad),
  });
  const v = nchwOutput(dy!, w, node.outputs[0]!, batchOf(dy!), co, out);
  if (W.fresh) v.foldable = { node, channelAxis: 1, channels: co };
  return [v];
};

/** Fold y = x·scale + shift (per output channel) into a foldable conv's weights and bias. */
function foldAffine(cx: LowerContext, x: Value, scale: Float32Array, shift: Float32Array): boolean {
  const f = x.foldable;
  if (f === undefined || cx.usesOfInput(0) !== 1 || scale.length !== f.channels) return false;
  const node = f.node;
  const W = cx.ir.inits.get(node.inputs[1]!);
  if (W === undefined || !(W.data instanceof Float32Array)) return false;
  const inner = shapeSize(W.shape.slice(f.channelAxis + 1));
  const data = Float32Array.from(W.data);
  for (let e = 0; e < data.length; e++) data[e]! *= scale[Math.floor(e / inner) % f.channels]!;
  const bOld = node.inputs[2] === undefined ? undefined : cx.ir.inits.get(node.inputs[2]);
  const bias = new Float32Array(f.channels);
  const old = bOld === undefined ? undefined : floatsOf(bOld);
  for (let c = 0; c < f.channels; c++) bias[c] = (old?.[c] ?? 0) * scale[c]! + shift[c]!;
  node.inputs[1] = cx.ir.fresh('weights');
  cx.ir.inits.set(node.inputs[1], { dtype: W.dtype, shape: W.shape, data });
  node.inputs[2] = cx.ir.fresh('bias');
  cx.ir.inits.set(node.inputs[2], { dtype: W.dtype, shape: [f.channels], data: bias });
  return true;
}

const fusedBatchNorm: OpLowering = (cx, _node, [x, gamma, beta, mean, variance]) => {
  if (cx.bool('is_training', true))
    throw cx.refusal('training-mode batch normalization (batch statistics) is not supported');
  const eps = cx.float('epsilon', 0.0001);
  const nchwData = cx.str('data_format', 'NHWC') === 'NCHW';
  const extra = [mean!, variance!, mean!, variance!, variance!];
  const params = [gamma!, beta!, mean!, variance!].map((v) => v.konst);
  if (params.every((p): p is ConstData => p !== undefined && p.dtype === 1)) {
    const [g, b, m, v] = params.map(floatsOf) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const scale = g.map((gi, i) => gi / Math.sqrt(v[i]! + eps));
    const shift = b.map((bi, i) => bi - m[i]! * scale[i]!);
    if (foldAffine(cx, x!, scale, shift)) return [{ ...x! }, ...extra];
    const shape = nchwData ? [scale.length, 1, 1] : [scale.length];
    const s = cx.constValue({ dtype: 1, shape, data: scale });
    const t = cx.constValue({ dtype: 1, shape, data: shift });
    const y = elementwise(cx, [x!, s], KERNEL_TYPES.float, (n) => cx.op1('Mul', n));
    return [elementwise(cx, [y, t], KERNEL_TYPES.float, (n) => cx.op1('Add', n)), ...extra];
  }
  const w: Window = { nchwData, strides: [1, 1], dilations: [1, 1] };
  const X = nchwInput(cx, x!, w);
  const out = cx.op1('BatchNormalization', [X, ...[gamma!, beta!, mean!, variance!].map((v) => cx.ref(v))], {
    epsilon: attr.f(eps),
  });
  const v: Value = nchwData
    ? { dtype: x!.dtype, shape: x!.shape, name: out }
    : { dtype: x!.dtype, shape: x!.shape, nchw: out };
  return [v, ...extra];
};

/** Conv2D, DepthwiseConv2dNative, Conv2DBackpropInput, FusedBatchNorm/V2/V3. */
export const convOps: Record<string, OpLowering> = {
  Conv2D: conv2d,
  DepthwiseConv2dNative: depthwise,
  Conv2DBackpropInput: convTranspose,
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
};
