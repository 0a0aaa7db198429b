import { type Attr, attr } from '@servekit/onnx';
import { TfDtype } from '../../graph/dtypes.js';
import { constOf, numbersOf } from '../const.js';
import { broadcastShapes, constToNchw, type LowerContext, type OpLowering, type Value } from '../context.js';
import { isFloat, KERNEL_TYPES } from '../dtype.js';

type Operand = (cx: LowerContext, v: Value) => string;

/** How to read each operand: in NCHW when every input can be (and one already is), else in TF layout. */
function pickLayout(inputs: Value[]): 'nchw' | 'tf' {
  if (!inputs.some((v) => v.nchw !== undefined && v.name === undefined)) return 'tf';
  const ok = inputs.every(
    (v) =>
      v.nchw !== undefined ||
      (v.konst !== undefined && v.konst.shape.length <= 4) ||
      (v.shape !== undefined && v.shape.length === 0),
  );
  return ok ? 'nchw' : 'tf';
}

const nchwOperand: Operand = (cx, v) => {
  if (v.nchw !== undefined) return v.nchw;
  if (v.konst !== undefined) return cx.init(constToNchw(v.konst));
  return cx.ref(v);
};

/**
 * Emit an element-wise op over `inputs` in whichever layout avoids Transposes, computing in a dtype onnxruntime has a
 * kernel for and casting the result back to `outDtype` (TF's), or leaving it as is for bool results.
 */
export function elementwise(
  cx: LowerContext,
  inputs: Value[],
  allowed: readonly number[],
  build: (names: string[], dtype: number) => string,
  outDtype: number = inputs[0]!.dtype,
): Value {
  const layout = pickLayout(inputs);
  const dtype = cx.computeType(inputs[0]!.dtype, allowed);
  const names = inputs.map((v) => {
    if (layout === 'nchw') {
      const n = nchwOperand(cx, v);
      return cx.cast(n, v.dtype, dtype);
    }
    return cx.refAs(v, dtype);
  });
  let out = build(names, dtype);
  if (outDtype !== TfDtype.DT_BOOL) out = cx.cast(out, dtype, outDtype);
  const shape = inputs.map((v) => v.shape).reduce((a, b) => broadcastShapes(a, b));
  return layout === 'nchw' ? { dtype: outDtype, shape, nchw: out } : { dtype: outDtype, shape, name: out };
}

const simple =
  (onnxOp: string, allowed: readonly number[], attrs: (cx: LowerContext) => Record<string, Attr> = () => ({})) =>
  (bool = false): OpLowering =>
  (cx, _node, inputs) => [
    elementwise(cx, inputs, allowed, (n) => cx.op1(onnxOp, n, attrs(cx)), bool ? TfDtype.DT_BOOL : inputs[0]!.dtype),
  ];

/** Fold an element-wise op on small constants (shape arithmetic), when both sides are known. */
function foldBinary(cx: LowerContext, inputs: Value[], f: (a: number, b: number) => number): Value | undefined {
  const [a, b] = inputs.map((v) => cx.known(v));
  if (a === undefined || b === undefined || a.data.length > 64 || b.data.length > 64) return undefined;
  if (a.data.length !== b.data.length && a.data.length !== 1 && b.data.length !== 1) return undefined;
  const x = numbersOf(a);
  const y = numbersOf(b);
  const n = Math.max(x.length, y.length);
  const shape = (x.length >= y.length ? a : b).shape;
  const out = Array.from({ length: n }, (_, i) => f(x[x.length === 1 ? 0 : i]!, y[y.length === 1 ? 0 : i]!));
  return cx.constValue(constOf(a.dtype, shape, out));
}

const arith =
  (onnxOp: string, f: (a: number, b: number) => number): OpLowering =>
  (cx, node, inputs) => {
    const intType = !isFloat(inputs[0]!.dtype);
    const folded = intType ? foldBinary(cx, inputs, f) : undefined;
    if (folded !== undefined) return [folded];
    return simple(onnxOp, KERNEL_TYPES.arith)()(cx, node, inputs);
  };

/** Integer floor division (Python semantics): (a - mod(a, b)) / b is exact. */
function floorDiv(cx: LowerContext, [a, b]: string[], dtype: number): string {
  if (isFloat(dtype)) return cx.op1('Floor', [cx.op1('Div', [a!, b!])]);
  const mod = cx.op1('Mod', [a!, b!], { fmod: attr.i(0) });
  return cx.op1('Div', [cx.op1('Sub', [a!, mod]), b!]);
}

/** Binary element-wise and comparison ops. */
export const binaryOps: Record<string, OpLowering> = {
  Add: arith('Add', (a, b) => a + b),
  AddV2: arith('Add', (a, b) => a + b),
  Sub: arith('Sub', (a, b) => a - b),
  Mul: arith('Mul', (a, b) => a * b),
  RealDiv: simple('Div', KERNEL_TYPES.arith)(),
  Div: arith('Div', (a, b) => Math.trunc(a / b)),
  FloorDiv: (cx, _node, inputs) => {
    const folded = isFloat(inputs[0]!.dtype) ? undefined : foldBinary(cx, inputs, (a, b) => Math.floor(a / b));
    if (folded !== undefined) return [folded];
    return [elementwise(cx, inputs, KERNEL_TYPES.arith, (n, dt) => floorDiv(cx, n, dt))];
  },
  FloorMod: (cx, _node, inputs) => [
    elementwise(cx, inputs, KERNEL_TYPES.arith, ([a, b], dt) =>
      isFloat(dt)
        ? cx.op1('Sub', [a!, cx.op1('Mul', [cx.op1('Floor', [cx.op1('Div', [a!, b!])]), b!])])
        : cx.op1('Mod', [a!, b!], { fmod: attr.i(0) }),
    ),
  ],
  Pow: simple('Pow', KERNEL_TYPES.arith)(),
  SquaredDifference: (cx, _node, inputs) => [
    elementwise(cx, inputs, KERNEL_TYPES.arith, ([a, b]) => {
      const d = cx.op1('Sub', [a!, b!]);
      return cx.op1('Mul', [d, d]);
    }),
  ],
  Maximum: arith('Max', Math.max),
  Minimum: arith('Min', Math.min),
  Equal: simple('Equal', KERNEL_TYPES.equal)(true),
  NotEqual: (cx, _node, inputs) => [
    elementwise(cx, inputs, KERNEL_TYPES.equal, (n) => cx.op1('Not', [cx.op1('Equal', n)]), TfDtype.DT_BOOL),
  ],
  Less: simple('Less', KERNEL_TYPES.arith)(true),
  LessEqual: simple('LessOrEqual', KERNEL_TYPES.arith)(true),
  Greater: simple('Greater', KERNEL_TYPES.arith)(true),
  GreaterEqual: simple('GreaterOrEqual', KERNEL_TYPES.arith)(true),
  LogicalAnd: simple('And', [TfDtype.DT_BOOL])(true),
  LogicalOr: simple('Or', [TfDtype.DT_BOOL])(true),
};

const unary = (onnxOp: string, allowed: readonly number[] = KERNEL_TYPES.float, attrs: Record<string, Attr> = {}) =>
  ((cx, _node, inputs) => [
    elementwise(cx, inputs.slice(0, 1), allowed, (n) => cx.op1(onnxOp, n, attrs)),
  ]) as OpLowering;

const withAttrs =
  (onnxOp: string, attrs: (cx: LowerContext) => Record<string, Attr>): OpLowering =>
  (cx, _node, inputs) => [elementwise(cx, inputs, KERNEL_TYPES.float, (n) => cx.op1(onnxOp, n, attrs(cx)))];

/** Unary element-wise ops and activations. */
export const unaryOps: Record<string, OpLowering> = {
  Relu: unary('Relu'),
  Relu6: (cx, _node, [x]) => [
    elementwise(cx, [x!], KERNEL_TYPES.float, ([n], dt) => cx.op1('Clip', [n!, cx.scalar(dt, 0), cx.scalar(dt, 6)])),
  ],
  LeakyRelu: withAttrs('LeakyRelu', (cx) => ({ alpha: attr.f(cx.float('alpha', 0.2)) })),
  Elu: unary('Elu'),
  Selu: unary('Selu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Softplus: unary('Softplus'),
  Square: (cx, _node, [x]) => [elementwise(cx, [x!], KERNEL_TYPES.arith, ([n]) => cx.op1('Mul', [n!, n!]))],
  Sqrt: unary('Sqrt'),
  Rsqrt: (cx, _node, [x]) => [
    elementwise(cx, [x!], KERNEL_TYPES.float, ([n]) => cx.op1('Reciprocal', [cx.op1('Sqrt', [n!])])),
  ],
  Reciprocal: unary('Reciprocal'),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Log1p: (cx, _node, [x]) => [
    elementwise(cx, [x!], KERNEL_TYPES.float, ([n], dt) => cx.op1('Log', [cx.op1('Add', [n!, cx.scalar(dt, 1)])])),
  ],
  Neg: unary('Neg', KERNEL_TYPES.arith),
  Abs: unary('Abs', KERNEL_TYPES.arith),
  Sign: unary('Sign', KERNEL_TYPES.arith),
  Floor: unary('Floor'),
  Ceil: unary('Ceil'),
  Round: unary('Round'),
  Sin: unary('Sin'),
  Cos: unary('Cos'),
  Erf: unary('Erf'),
  LogicalNot: (cx, _node, [x]) => [
    elementwise(cx, [x!], [TfDtype.DT_BOOL], ([n]) => cx.op1('Not', [n!]), TfDtype.DT_BOOL),
  ],
  AddN: (cx, _node, inputs) => {
    if (inputs.length === 1) return [inputs[0]!];
    return [
      elementwise(cx, inputs, KERNEL_TYPES.arith, (n, dt) =>
        isFloat(dt) ? cx.op1('Sum', n) : n.slice(1).reduce((a, b) => cx.op1('Add', [a, b]), n[0]!),
      ),
    ];
  },
};
