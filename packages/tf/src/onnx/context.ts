import { type Attr, attr } from '@servekit/onnx';
import { baseDtype, TfDtype } from '../graph/dtypes.js';
import type { GraphNode } from '../graph/frozen-graph.js';
import { type ConstData, constOf, numbersOf, reshapeConst, transposeConst } from './const.js';
import { computeDtype, onnxTypeCode } from './dtype.js';
import { UnsupportedTfOps } from './errors.js';
import type { IrNode, OnnxIr } from './ir.js';

/** NHWC → NCHW permutation. */
export const TO_NCHW = [0, 3, 1, 2];
/** NCHW → NHWC permutation. */
export const TO_NHWC = [0, 2, 3, 1];

/** One element of a partially known 1-D int tensor: a number, the size of another value's dim, or unknown. */
export type Elem = number | { dimOf: Value; axis: number } | undefined;

/** A TF tensor during lowering: its dtype and static shape, and the ONNX tensor(s) holding it. */
export interface Value {
  /** TF dtype (base). */
  dtype: number;
  /** Static TF shape (-1 unknown dims), undefined when the rank is unknown. */
  shape?: number[];
  /** ONNX tensor in TF's layout (made on demand from `nchw` or `konst`). */
  name?: string;
  /** For rank-4 NHWC values: an ONNX tensor holding it as NCHW (kept so consecutive conv-like ops need no Transposes). */
  nchw?: string;
  /** The value, when known at conversion time. */
  konst?: ConstData;
  /** Element-wise knowledge of a 1-D (or scalar, `partialScalar`) int tensor, e.g. a shape built by Shape/Pack. */
  partial?: Elem[];
  /** `partial` describes a scalar. */
  partialScalar?: boolean;
  /** The Conv/ConvTranspose/Gemm node that produced this value, with fresh constant weights, for BN/bias folding. */
  foldable?: { node: IrNode; channelAxis: number; channels: number };
}

/** Signature of one op's lowering: the node and its input values → its output values. */
export type OpLowering = (cx: LowerContext, node: GraphNode, inputs: Value[]) => Value[];

/** The state of one lowering, handed to each op's lowering. */
export class LowerContext {
  /** The node being lowered. */
  node: GraphNode = { name: '', op: '', inputs: [], controlInputs: [], attrs: {} };

  constructor(
    /** The ONNX graph being built. */
    readonly ir: OnnxIr,
    private readonly uses: Map<string, number>,
  ) {}

  /** The error refusing the current node (UnsupportedTfOps naming its op, node and `reason`), to throw. */
  refusal(reason: string): UnsupportedTfOps {
    return new UnsupportedTfOps([{ op: this.node.op, node: this.node.name, reason }]);
  }

  /** How many consumers (and signature outputs) output `index` of the current node has. */
  usesOfOutput(index = 0): number {
    return this.uses.get(`${this.node.name}:${index}`) ?? 0;
  }

  /** How many consumers the current node's input `i` has. */
  usesOfInput(i: number): number {
    const t = this.node.inputs[i]!;
    return this.uses.get(t.includes(':') ? t : `${t}:0`) ?? 0;
  }

  /** Emit a node; returns its output names. */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1): string[] {
    return this.ir.add(type, inputs, attrs, outputs).outputs;
  }

  /** Emit a single-output node; returns its output name. */
  op1(type: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.ir.add(type, inputs, attrs, 1).outputs[0]!;
  }

  /** The ONNX tensor holding `v` in TF layout (an initializer or a Transpose back from NCHW, made once). */
  ref(v: Value): string {
    if (v.name !== undefined) return v.name;
    if (v.konst !== undefined) v.name = this.ir.init(v.konst);
    else if (v.nchw !== undefined) v.name = this.op1('Transpose', [v.nchw], { perm: attr.ints(TO_NHWC) });
    else throw new Error(`lowering: value of node "${this.node.name}" has no tensor`);
    return v.name;
  }

  /** The ONNX tensor holding rank-4 `v` as NCHW (a Transpose from NHWC, made once; constants are permuted here). */
  refNchw(v: Value): string {
    if (v.nchw !== undefined) return v.nchw;
    if (v.konst !== undefined && v.konst.shape.length === 4) v.nchw = this.ir.init(transposeConst(v.konst, TO_NCHW));
    else v.nchw = this.op1('Transpose', [this.ref(v)], { perm: attr.ints(TO_NCHW) });
    return v.nchw;
  }

  /** A value known at conversion time. */
  constValue(c: ConstData): Value {
    return { dtype: c.dtype, shape: c.shape.slice(), konst: c };
  }

  /** An initializer holding `c`. */
  init(c: ConstData): string {
    return this.ir.init(c);
  }

  /** A 1-D int64 initializer (or of `shape`). */
  int64s(values: number[], shape: number[] = [values.length]): string {
    return this.ir.init(constOf(TfDtype.DT_INT64, shape, values));
  }

  /** A scalar initializer of `dtype`. */
  scalar(dtype: number, value: number): string {
    return this.ir.init(constOf(dtype, [], [value]));
  }

  /** `name` cast from `from` to `to` (no node when equal). */
  cast(name: string, from: number, to: number): string {
    if (baseDtype(from) === baseDtype(to)) return name;
    return this.op1('Cast', [name], { to: attr.i(onnxTypeCode(to)) });
  }

  /** `v` in TF layout cast to `to`. */
  refAs(v: Value, to: number): string {
    if (v.konst !== undefined && baseDtype(v.dtype) !== baseDtype(to))
      return this.ir.init(constOf(to, v.konst.shape, numbersOf(v.konst)));
    return this.cast(this.ref(v), v.dtype, to);
  }

  /** `v` as a 1-D int64 tensor (shapes, axes, repeats, sizes: ONNX wants int64). */
  refInt64(v: Value): string {
    const k = this.known(v);
    if (k !== undefined) return this.int64s(numbersOf(k), k.shape.length === 0 ? [1] : k.shape);
    const cast = this.refAs(v, TfDtype.DT_INT64);
    if (v.shape !== undefined && v.shape.length === 1) return cast;
    return this.op1('Reshape', [cast, this.int64s([-1])]);
  }

  /** The value's contents when known at conversion time (constants, fully known partial shapes). */
  known(v: Value): ConstData | undefined {
    if (v.konst !== undefined) return v.konst;
    if (v.partial?.every((e) => typeof e === 'number')) {
      const c = constOf(v.dtype, v.partialScalar ? [] : [v.partial.length], v.partial as number[]);
      v.konst = c;
      return c;
    }
    return undefined;
  }

  /** The elements of a value that must be known at conversion time (axes, permutations…); refuses otherwise. */
  constNumbers(v: Value, what: string): number[] {
    const k = this.known(v);
    if (k === undefined) throw this.refusal(`its ${what} must be a constant`);
    return numbersOf(k);
  }

  /** The dtype onnxruntime computes `dt` in for a kernel implementing `allowed`. */
  computeType(dt: number, allowed: readonly number[]): number {
    return computeDtype(dt, allowed);
  }

  /** Attribute `name` of the current node as an integer. */
  int(name: string, dflt: number): number {
    const a = this.node.attrs[name];
    return a?.i === undefined ? dflt : Number(a.i);
  }

  /** Attribute `name` as a list of integers. */
  ints(name: string, dflt: number[]): number[] {
    const a = this.node.attrs[name];
    return a?.list?.i === undefined ? dflt : a.list.i.map(Number);
  }

  /** Attribute `name` as a float. */
  float(name: string, dflt: number): number {
    return this.node.attrs[name]?.f ?? dflt;
  }

  /** Attribute `name` as a boolean. */
  bool(name: string, dflt: boolean): boolean {
    return this.node.attrs[name]?.b ?? dflt;
  }

  /** Attribute `name` as a string. */
  str(name: string, dflt: string): string {
    const s = this.node.attrs[name]?.s;
    return s === undefined ? dflt : new TextDecoder().decode(s);
  }

  /** Attribute `name` as a TF dtype. */
  type(name: string, dflt: number): number {
    return this.node.attrs[name]?.type ?? dflt;
  }
}

/** A constant reshaped so it broadcasts against an NCHW tensor the way it did against the NHWC one. */
export function constToNchw(c: ConstData): ConstData {
  const rank = c.shape.length;
  if (rank === 0) return c;
  const padded = reshapeConst(c, [...new Array<number>(4 - rank).fill(1), ...c.shape]);
  return transposeConst(padded, TO_NCHW);
}

/** Numpy broadcast of two static shapes (undefined when either rank is unknown). */
export function broadcastShapes(a: number[] | undefined, b: number[] | undefined): number[] | undefined {
  if (a === undefined || b === undefined) return undefined;
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    out.push(x === 1 ? y : y === 1 ? x : x === -1 ? y : x);
  }
  return out;
}

/** An axis in [0, rank). */
export const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);
