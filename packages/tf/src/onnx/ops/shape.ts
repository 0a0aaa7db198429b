import { attr, type OnnxElemType } from '@servekit/onnx';
import { onnxElemType, TfDtype } from '../../graph/dtypes.js';
import { shapeSize } from '../../graph/host-tensor.js';
import { constOf, numbersOf, transposeConst } from '../const.js';
import { type Elem, type LowerContext, normAxis, type OpLowering, TO_NHWC, type Value } from '../context.js';

const INT64_MAX = 9223372036854775807n;
const BIG = Number.MAX_SAFE_INTEGER;
const int64Big = (cx: LowerContext, values: number[]): string =>
  cx.ir.init({
    dtype: TfDtype.DT_INT64,
    shape: [values.length],
    data: BigInt64Array.from(values.map((v) => (v >= BIG ? INT64_MAX : v <= -BIG ? -INT64_MAX - 1n : BigInt(v)))),
  });

/** Elements of a 1-D (or scalar) int value as far as known. */
function elemsOf(cx: LowerContext, v: Value): Elem[] | undefined {
  const k = cx.known(v);
  if (k !== undefined && k.shape.length <= 1 && k.data.length <= 64) return numbersOf(k);
  return v.partial;
}

function isScalarShape(v: Value): boolean {
  return v.shape !== undefined && v.shape.length === 0;
}

/** A value of 1-D int `elems` (computed by `name`), folded to a constant when fully known. */
function partialValue(cx: LowerContext, dtype: number, elems: Elem[], scalar: boolean, name: string): Value {
  const v: Value = { dtype, shape: scalar ? [] : [elems.length], name, partial: elems, partialScalar: scalar };
  if (elems.every((e) => typeof e === 'number')) {
    const k = cx.known(v)!;
    return cx.constValue(k);
  }
  return v;
}

const shapeOp: OpLowering = (cx, _node, [x]) => {
  const outType = cx.type('out_type', TfDtype.DT_INT32);
  const s = x!.shape;
  if (s?.every((d) => d >= 0)) return [cx.constValue(constOf(outType, [s.length], s))];
  let name: string;
  if (x!.nchw !== undefined && x!.name === undefined) {
    name = cx.op1('Gather', [cx.op1('Shape', [x!.nchw]), cx.int64s(TO_NHWC)], { axis: attr.i(0) });
  } else name = cx.op1('Shape', [cx.ref(x!)]);
  name = cx.cast(name, TfDtype.DT_INT64, outType);
  if (s === undefined) return [{ dtype: outType, name }];
  return [
    partialValue(
      cx,
      outType,
      s.map((d, i) => (d >= 0 ? d : { dimOf: x!, axis: i })),
      false,
      name,
    ),
  ];
};

function reshapeShape(x: Value, elems: Elem[]): number[] {
  const dims = elems.map((e, i) =>
    typeof e === 'number' ? e : typeof e === 'object' && e.dimOf === x ? (x.shape?.[i] ?? -1) : -1,
  );
  const inSize = x.shape?.every((d) => d >= 0) ? shapeSize(x.shape) : -1;
  const unknown = dims.filter((d) => d === -1).length;
  if (unknown === 1 && inSize >= 0) {
    const rest = shapeSize(dims.filter((d) => d !== -1));
    return dims.map((d) => (d === -1 && rest > 0 ? inSize / rest : d));
  }
  return dims;
}

const reshape: OpLowering = (cx, _node, [x, s]) => {
  const elems = elemsOf(cx, s!);
  if (elems !== undefined) {
    const outShape = reshapeShape(x!, elems);
    const hasZero = elems.includes(0);
    // Copy dims (ONNX 0) only where the element is the input's own dim at the same place, and no literal 0 exists.
    const dims = elems.map((e, i) =>
      typeof e === 'number' ? e : !hasZero && typeof e === 'object' && e.dimOf === x && e.axis === i ? 0 : undefined,
    );
    const unknown = dims.filter((d) => d === undefined).length;
    const minusOne = dims.includes(-1);
    if (unknown === 0 || (unknown === 1 && !minusOne)) {
      const k = x!.konst;
      if (k !== undefined && outShape.every((d) => d >= 0)) return [cx.constValue({ ...k, shape: outShape })];
      const shape = cx.int64s(dims.map((d) => d ?? -1));
      const name = cx.op1('Reshape', [cx.ref(x!), shape], { allowzero: attr.i(hasZero ? 1 : 0) });
      return [{ dtype: x!.dtype, shape: outShape, name }];
    }
    const name = cx.op1('Reshape', [cx.ref(x!), cx.refInt64(s!)], { allowzero: attr.i(1) });
    return [{ dtype: x!.dtype, shape: outShape, name }];
  }
  const name = cx.op1('Reshape', [cx.ref(x!), cx.refInt64(s!)], { allowzero: attr.i(1) });
  return [
    {
      dtype: x!.dtype,
      shape: s!.shape?.length === 1 && s!.shape[0]! >= 0 ? new Array<number>(s!.shape[0]!).fill(-1) : undefined,
      name,
    },
  ];
};

const squeeze: OpLowering = (cx, _node, [x]) => {
  const dims = cx.ints('squeeze_dims', cx.ints('axis', []));
  const rank = x!.shape?.length;
  const axes = rank === undefined ? dims : dims.map((d) => normAxis(d, rank));
  let shape: number[] | undefined;
  if (x!.shape !== undefined) {
    if (axes.length > 0) shape = x!.shape.filter((_, i) => !axes.includes(i));
    else if (x!.shape.every((d) => d >= 0)) shape = x!.shape.filter((d) => d !== 1);
  }
  if (x!.konst !== undefined && shape !== undefined) return [cx.constValue({ ...x!.konst, shape })];
  if (x!.partial !== undefined && x!.partial.length === 1 && !x!.partialScalar) {
    return [partialValue(cx, x!.dtype, x!.partial, true, cx.op1('Squeeze', [cx.ref(x!), cx.int64s([0])]))];
  }
  const name = cx.op1('Squeeze', axes.length > 0 ? [cx.ref(x!), cx.int64s(axes)] : [cx.ref(x!)]);
  return [{ dtype: x!.dtype, shape, name }];
};

const expandDims: OpLowering = (cx, _node, [x, dim]) => {
  const k = cx.known(dim!);
  if (k === undefined) {
    return [{ dtype: x!.dtype, name: cx.op1('Unsqueeze', [cx.ref(x!), cx.refInt64(dim!)]) }];
  }
  const d = numbersOf(k)[0]!;
  const rank = x!.shape?.length;
  const shape = rank === undefined ? undefined : x!.shape!.slice();
  if (shape !== undefined) shape.splice(d < 0 ? d + rank! + 1 : d, 0, 1);
  if (x!.konst !== undefined && shape !== undefined) return [cx.constValue({ ...x!.konst, shape })];
  const name = cx.op1('Unsqueeze', [cx.ref(x!), cx.int64s([d])]);
  if (x!.partial !== undefined && x!.partialScalar) return [partialValue(cx, x!.dtype, x!.partial, false, name)];
  return [{ dtype: x!.dtype, shape, name }];
};

const concat: OpLowering = (cx, _node, args) => {
  const parts = args.slice(0, -1);
  const axisRaw = cx.constNumbers(args[args.length - 1]!, 'axis')[0]!;
  if (parts.length === 1) return [parts[0]!];
  const rank = parts.find((p) => p.shape !== undefined)?.shape?.length;
  const axis = rank === undefined ? axisRaw : normAxis(axisRaw, rank);
  const shape =
    rank === undefined
      ? undefined
      : parts[0]!.shape!.map((d, i) =>
          i === axis
            ? parts.every((p) => p.shape !== undefined && p.shape[i]! >= 0)
              ? parts.reduce((a, p) => a + p.shape![i]!, 0)
              : -1
            : d,
        );
  // Shape vectors: keep what is known of each element.
  if (rank === 1) {
    const elems = parts.map((p) => elemsOf(cx, p));
    if (elems.every((e) => e !== undefined)) {
      const name = cx.op1(
        'Concat',
        parts.map((p) => cx.ref(p)),
        { axis: attr.i(0) },
      );
      return [partialValue(cx, parts[0]!.dtype, elems.flat(), false, name)];
    }
  }
  const nchw =
    rank === 4 &&
    parts.some((p) => p.nchw !== undefined && p.name === undefined) &&
    parts.every((p) => p.nchw !== undefined || p.konst !== undefined);
  if (nchw) {
    const out = cx.op1(
      'Concat',
      parts.map((p) => cx.refNchw(p)),
      { axis: attr.i([0, 2, 3, 1][axis]!) },
    );
    return [{ dtype: parts[0]!.dtype, shape, nchw: out }];
  }
  const out = cx.op1(
    'Concat',
    parts.map((p) => cx.ref(p)),
    { axis: attr.i(axis) },
  );
  return [{ dtype: parts[0]!.dtype, shape, name: out }];
};

const pack: OpLowering = (cx, _node, parts) => {
  const axis = cx.int('axis', 0);
  const rank = parts[0]!.shape?.length;
  const outShape = rank === undefined ? undefined : parts[0]!.shape!.slice();
  if (outShape !== undefined) outShape.splice(axis < 0 ? axis + rank! + 1 : axis, 0, parts.length);
  const ax = cx.int64s([axis]);
  const name = cx.op1(
    'Concat',
    parts.map((p) => cx.op1('Unsqueeze', [cx.ref(p), ax])),
    { axis: attr.i(axis) },
  );
  if (parts.every(isScalarShape)) {
    const elems = parts.map((p): Elem => {
      const e = elemsOf(cx, p);
      return e?.length === 1 ? e[0] : undefined;
    });
    return [partialValue(cx, parts[0]!.dtype, elems, false, name)];
  }
  return [{ dtype: parts[0]!.dtype, shape: outShape, name }];
};

const unpack: OpLowering = (cx, _node, [x]) => {
  const num = cx.int('num', 0);
  const axis = cx.int('axis', 0);
  const rank = x!.shape?.length;
  const shape = rank === undefined ? undefined : x!.shape!.filter((_, i) => i !== normAxis(axis, rank));
  const splits = cx.op('Split', [cx.ref(x!)], { axis: attr.i(axis), num_outputs: attr.i(num) }, num);
  const ax = cx.int64s([axis]);
  return splits.map((s) => ({ dtype: x!.dtype, shape, name: cx.op1('Squeeze', [s, ax]) }));
};

const transpose: OpLowering = (cx, _node, [x, p]) => {
  const perm = cx.constNumbers(p!, 'perm');
  const shape = x!.shape === undefined ? undefined : perm.map((i) => x!.shape![i]!);
  if (x!.konst !== undefined) return [cx.constValue(transposeConst(x!.konst, perm))];
  if (x!.nchw !== undefined && x!.name === undefined && perm.length === 4) {
    const composed = perm.map((i) => [0, 2, 3, 1][i]!);
    if (composed.every((v, i) => v === i)) return [{ dtype: x!.dtype, shape, name: x!.nchw }];
    return [{ dtype: x!.dtype, shape, name: cx.op1('Transpose', [x!.nchw], { perm: attr.ints(composed) }) }];
  }
  return [{ dtype: x!.dtype, shape, name: cx.op1('Transpose', [cx.ref(x!)], { perm: attr.ints(perm) }) }];
};

/** One dim of a StridedSlice after expanding the sparse spec. */
interface DenseDim {
  begin: number;
  end: number;
  stride: number;
  beginMask: boolean;
  endMask: boolean;
  shrink: boolean;
}

const bit = (mask: number, i: number): boolean => ((mask >> i) & 1) === 1;

/** ONNX Slice start/end for a TF dim (masks → open ends; shrink → one element). */
function sliceBounds(d: DenseDim): [number, number] {
  if (d.shrink) return [d.begin, d.begin === -1 ? BIG : d.begin + 1];
  const start = d.beginMask ? (d.stride > 0 ? 0 : BIG) : d.begin;
  const end = d.endMask ? (d.stride > 0 ? BIG : -BIG) : d.end;
  return [start, end];
}

function pySlice(n: number, d: DenseDim): number[] {
  const [s0, e0] = sliceBounds(d);
  const st = d.shrink ? 1 : d.stride;
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  const norm = (v: number): number => (v < 0 ? v + n : v);
  let s = norm(s0 >= BIG ? n : s0 <= -BIG ? -1 : s0);
  let e = norm(e0 >= BIG ? n : e0 <= -BIG ? -1 - n : e0);
  if (st > 0) {
    s = clamp(s, 0, n);
    e = clamp(e, 0, n);
  } else {
    s = clamp(s, -1, n - 1);
    e = clamp(e, -1, n - 1);
  }
  const out: number[] = [];
  for (let i = s; st > 0 ? i < e : i > e; i += st) out.push(i);
  return out;
}

const stridedSlice: OpLowering = (cx, _node, [x, b, e, s]) => {
  const begin = cx.constNumbers(b!, 'begin');
  const end = cx.constNumbers(e!, 'end');
  const strides = cx.constNumbers(s!, 'strides');
  const [bm, em, ellipsis, newAxis, shrinkM] = [
    'begin_mask',
    'end_mask',
    'ellipsis_mask',
    'new_axis_mask',
    'shrink_axis_mask',
  ].map((n) => cx.int(n, 0)) as [number, number, number, number, number];
  const n = begin.length;
  const rank = x!.shape?.length;
  if (ellipsis !== 0 && rank === undefined) throw cx.refusal('an ellipsis needs the input rank, which is unknown');
  const dense: Array<DenseDim & { axis: number }> = [];
  const newAxisOut: number[] = [];
  let full = 0;
  let outAxis = 0;
  for (let i = 0; i < n; i++) {
    if (bit(ellipsis, i)) {
      let after = 0;
      let newAfter = 0;
      for (let j = i + 1; j < n; j++) {
        if (bit(newAxis, j)) newAfter++;
        else after++;
      }
      const covered = rank! - full - after;
      full += covered;
      outAxis += covered;
      void newAfter;
    } else if (bit(newAxis, i)) {
      newAxisOut.push(outAxis++);
    } else {
      const d = {
        axis: full++,
        begin: begin[i]!,
        end: end[i]!,
        stride: strides[i]!,
        beginMask: bit(bm, i),
        endMask: bit(em, i),
        shrink: bit(shrinkM, i),
      };
      if (d.stride === 0) throw cx.refusal('a stride of 0 is invalid');
      dense.push(d);
      if (!d.shrink) outAxis++;
    }
  }
  // Shape vectors: slice what is known.
  const elems = elemsOf(cx, x!);
  if (elems !== undefined && x!.shape?.length === 1 && dense.length === 1 && newAxisOut.length === 0) {
    const picked = pySlice(elems.length, dense[0]!).map((i) => elems[i]);
    const name = emitSlice(cx, x!, dense, newAxisOut);
    return [partialValue(cx, x!.dtype, picked, dense[0]!.shrink, name)];
  }
  let shape: number[] | undefined;
  if (x!.shape !== undefined) {
    const sliced = x!.shape.map((dim, i) => {
      const d = dense.find((q) => q.axis === i);
      if (d === undefined) return dim;
      return dim < 0 ? -1 : pySlice(dim, d).length;
    });
    const kept = sliced.filter((_, i) => !dense.some((d) => d.axis === i && d.shrink));
    for (const a of newAxisOut) kept.splice(a, 0, 1);
    shape = kept;
  }
  return [{ dtype: x!.dtype, shape, name: emitSlice(cx, x!, dense, newAxisOut) }];
};

function emitSlice(
  cx: LowerContext,
  x: Value,
  dense: Array<DenseDim & { axis: number }>,
  newAxisOut: number[],
): string {
  let name = cx.ref(x);
  const active = dense.filter((d) => d.shrink || !(d.beginMask && d.endMask && d.stride === 1));
  if (active.length > 0) {
    const bounds = active.map(sliceBounds);
    name = cx.op1('Slice', [
      name,
      int64Big(
        cx,
        bounds.map((q) => q[0]),
      ),
      int64Big(
        cx,
        bounds.map((q) => q[1]),
      ),
      cx.int64s(active.map((d) => d.axis)),
      cx.int64s(active.map((d) => (d.shrink ? 1 : d.stride))),
    ]);
  }
  const shrunk = dense.filter((d) => d.shrink).map((d) => d.axis);
  if (shrunk.length > 0) name = cx.op1('Squeeze', [name, cx.int64s(shrunk)]);
  if (newAxisOut.length > 0) name = cx.op1('Unsqueeze', [name, cx.int64s(newAxisOut)]);
  return name;
}

const slice: OpLowering = (cx, _node, [x, b, size]) => {
  const kb = cx.known(b!);
  const ks = cx.known(size!);
  let ends: string;
  const starts = cx.refInt64(b!);
  if (kb !== undefined && ks !== undefined) {
    const bs = numbersOf(kb);
    ends = int64Big(
      cx,
      numbersOf(ks).map((n, i) => (n === -1 ? BIG : bs[i]! + n)),
    );
  } else {
    const sz = cx.refInt64(size!);
    const sum = cx.op1('Add', [starts, sz]);
    const isAll = cx.op1('Equal', [sz, cx.int64s([-1], [])]);
    ends = cx.op1('Where', [isAll, int64Big(cx, [BIG]), sum]);
  }
  const shape =
    x!.shape !== undefined && ks !== undefined
      ? numbersOf(ks).map((n, i) => (n === -1 ? (x!.shape![i]! < 0 ? -1 : x!.shape![i]! - numbersOf(kb ?? ks)[i]!) : n))
      : x!.shape?.map(() => -1);
  return [
    {
      dtype: x!.dtype,
      shape: kb === undefined ? x!.shape?.map(() => -1) : shape,
      name: cx.op1('Slice', [cx.ref(x!), starts, ends]),
    },
  ];
};

/** Flat ONNX pads [b0, b1, …, e0, e1, …] from TF paddings [[b0, e0], …]. */
function onnxPads(cx: LowerContext, p: Value): { name: string; values?: number[] } {
  const k = cx.known(p);
  if (k !== undefined) {
    const v = numbersOf(k);
    const r = v.length / 2;
    const values = [
      ...Array.from({ length: r }, (_, i) => v[2 * i]!),
      ...Array.from({ length: r }, (_, i) => v[2 * i + 1]!),
    ];
    return { name: cx.int64s(values), values };
  }
  const t = cx.op1('Transpose', [cx.refAs(p, TfDtype.DT_INT64)], { perm: attr.ints([1, 0]) });
  return { name: cx.op1('Reshape', [t, cx.int64s([-1])]) };
}

const pad: OpLowering = (cx, node, [x, p, cval]) => {
  const mirror = node.op === 'MirrorPad' ? cx.str('mode', 'REFLECT') : undefined;
  const pads = onnxPads(cx, p!);
  const shape =
    x!.shape !== undefined && pads.values !== undefined
      ? x!.shape.map((d, i) => (d < 0 ? -1 : d + pads.values![i]! + pads.values![i + x!.shape!.length]!))
      : x!.shape?.map(() => -1);
  if (mirror === 'SYMMETRIC') {
    if (pads.values === undefined) throw cx.refusal('SYMMETRIC mirror padding needs constant paddings');
    const r = pads.values.length / 2;
    let name = cx.ref(x!);
    for (let a = 0; a < r; a++) {
      const [before, after] = [pads.values[a]!, pads.values[a + r]!];
      if (before === 0 && after === 0) continue;
      const parts: string[] = [];
      const sl = (start: number, end: number): string =>
        cx.op1('Slice', [name, int64Big(cx, [start]), int64Big(cx, [end]), cx.int64s([a]), cx.int64s([-1])]);
      if (before > 0) parts.push(sl(before - 1, -BIG));
      parts.push(name);
      if (after > 0) parts.push(sl(-1, -1 - after));
      name = cx.op1('Concat', parts, { axis: attr.i(a) });
    }
    return [{ dtype: x!.dtype, shape, name }];
  }
  const mode = mirror === 'REFLECT' ? 'reflect' : 'constant';
  const inputs = [pads.name];
  if (cval !== undefined && mode === 'constant') inputs.push(cx.ref(cval));
  // Zero padding of an NCHW-held value (e.g. ZeroPadding2D before a conv) stays in NCHW.
  if (x!.nchw !== undefined && x!.name === undefined && pads.values !== undefined && pads.values.length === 8) {
    const v = pads.values;
    const perm = [0, 3, 1, 2];
    const nchwPads = cx.int64s([...perm.map((i) => v[i]!), ...perm.map((i) => v[i + 4]!)]);
    const out = cx.op1('Pad', [x!.nchw, nchwPads, ...inputs.slice(1)], { mode: attr.s(mode) });
    return [{ dtype: x!.dtype, shape, nchw: out }];
  }
  return [{ dtype: x!.dtype, shape, name: cx.op1('Pad', [cx.ref(x!), ...inputs], { mode: attr.s(mode) }) }];
};

const likeOp =
  (fillValue: number): OpLowering =>
  (cx, _node, [x]) => {
    const s = x!.shape;
    const shapeName = s?.every((d) => d >= 0) ? cx.int64s(s) : cx.op1('Shape', [cx.ref(x!)]);
    const dt = x!.dtype;
    const value = constOf(dt === TfDtype.DT_BOOL ? TfDtype.DT_BOOL : dt, [1], [fillValue]);
    const out = cx.op1('ConstantOfShape', [shapeName], {
      value: attr.t({
        type: fillValueType(dt),
        dims: [1],
        values: Array.from(value.data as ArrayLike<number | bigint>),
      }),
    });
    return [{ dtype: dt, shape: s, name: out }];
  };

/** ONNX element types a ConstantOfShape `value` is written in; other dtypes fill as FLOAT. */
const FILL_VALUE_TYPES = new Set<OnnxElemType>(['FLOAT', 'DOUBLE', 'INT32', 'INT64', 'BOOL', 'UINT8']);

/** The element type of the ConstantOfShape `value` for TF dtype `dt`. */
function fillValueType(dt: number): OnnxElemType {
  const t = onnxElemType(dt);
  return t !== undefined && FILL_VALUE_TYPES.has(t) ? t : 'FLOAT';
}

const fill: OpLowering = (cx, _node, [dims, value]) => {
  const kd = cx.known(dims!);
  const kv = cx.known(value!);
  if (kd !== undefined && kv !== undefined && shapeSize(numbersOf(kd)) <= 64) {
    const shape = numbersOf(kd);
    return [cx.constValue(constOf(kv.dtype, shape, new Array<number>(shapeSize(shape)).fill(numbersOf(kv)[0]!)))];
  }
  const shape = kd === undefined ? elemsOf(cx, dims!)?.map((e) => (typeof e === 'number' ? e : -1)) : numbersOf(kd);
  return [{ dtype: value!.dtype, shape, name: cx.op1('Expand', [cx.ref(value!), cx.refInt64(dims!)]) }];
};

const range: OpLowering = (cx, _node, [start, limit, delta]) => {
  const k = [start, limit, delta].map((v) => cx.known(v!));
  const dt = cx.type('Tidx', start!.dtype);
  if (k.every((c) => c !== undefined)) {
    const [a, b, d] = k.map((c) => numbersOf(c!)[0]!) as [number, number, number];
    const n = Math.max(Math.ceil((b - a) / d), 0);
    if (n <= 4096)
      return [
        cx.constValue(
          constOf(
            dt,
            [n],
            Array.from({ length: n }, (_, i) => a + i * d),
          ),
        ),
      ];
  }
  const work = dt === TfDtype.DT_FLOAT || dt === TfDtype.DT_DOUBLE || dt === TfDtype.DT_INT64 ? dt : TfDtype.DT_INT32;
  const scalar = (v: Value): string => {
    const r = cx.refAs(v, work);
    return v.shape?.length === 0 ? r : cx.op1('Reshape', [r, cx.int64s([], [0])]);
  };
  const out = cx.op1('Range', [scalar(start!), scalar(limit!), scalar(delta!)]);
  return [{ dtype: dt, shape: [-1], name: cx.cast(out, work, dt) }];
};

const select: OpLowering = (cx, node, [c, t, e]) => {
  let cond = cx.ref(c!);
  const tr = t!.shape?.length;
  if (node.op === 'Select' && c!.shape?.length === 1 && tr !== undefined && tr > 1) {
    cond = cx.op1('Reshape', [cond, cx.int64s([-1, ...new Array<number>(tr - 1).fill(1)])]);
  } else if (node.op === 'Select' && c!.shape?.length === 1 && tr === undefined) {
    throw cx.refusal('a vector condition needs the rank of the branches, which is unknown');
  }
  return [{ dtype: t!.dtype, shape: t!.shape, name: cx.op1('Where', [cond, cx.ref(t!), cx.ref(e!)]) }];
};

const gather: OpLowering = (cx, node, [params, indices, axisV]) => {
  if (cx.int('batch_dims', 0) !== 0) throw cx.refusal('batch_dims other than 0 are not supported');
  const axisRaw = node.op === 'Gather' || axisV === undefined ? 0 : cx.constNumbers(axisV, 'axis')[0]!;
  const rank = params!.shape?.length;
  const axis = rank === undefined ? axisRaw : normAxis(axisRaw, rank);
  const name = cx.op1('Gather', [cx.ref(params!), cx.ref(indices!)], { axis: attr.i(axis) });
  const elems = params!.shape?.length === 1 ? elemsOf(cx, params!) : undefined;
  const ki = cx.known(indices!);
  if (elems !== undefined && ki !== undefined && ki.shape.length <= 1) {
    const picked = numbersOf(ki).map((i) => elems[i < 0 ? i + elems.length : i]);
    return [partialValue(cx, params!.dtype, picked, ki.shape.length === 0, name)];
  }
  const shape =
    params!.shape !== undefined && indices!.shape !== undefined
      ? [...params!.shape.slice(0, axis), ...indices!.shape, ...params!.shape.slice(axis + 1)]
      : undefined;
  return [{ dtype: params!.dtype, shape, name }];
};

const tile: OpLowering = (cx, _node, [x, m]) => {
  const k = cx.known(m!);
  const shape =
    x!.shape !== undefined && k !== undefined
      ? x!.shape.map((d, i) => (d < 0 ? -1 : d * numbersOf(k)[i]!))
      : x!.shape?.map(() => -1);
  return [{ dtype: x!.dtype, shape, name: cx.op1('Tile', [cx.ref(x!), cx.refInt64(m!)]) }];
};

/** Shape manipulation: Shape, Reshape, Squeeze, ExpandDims, ConcatV2, Pack/Unpack, Transpose, StridedSlice, Slice, Pad*, Fill, Range, ZerosLike/OnesLike, Select*, Gather*, Tile. */
export const shapeOps: Record<string, OpLowering> = {
  Shape: shapeOp,
  Size: (cx, _node, [x]) => {
    const outType = cx.type('out_type', TfDtype.DT_INT32);
    const s = x!.shape;
    if (s?.every((d) => d >= 0)) return [cx.constValue(constOf(outType, [], [shapeSize(s)]))];
    return [{ dtype: outType, shape: [], name: cx.cast(cx.op1('Size', [cx.ref(x!)]), TfDtype.DT_INT64, outType) }];
  },
  Rank: (cx, _node, [x]) => {
    if (x!.shape === undefined) throw cx.refusal('the input rank is unknown');
    return [cx.constValue(constOf(TfDtype.DT_INT32, [], [x!.shape.length]))];
  },
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  ConcatV2: concat,
  Pack: pack,
  Unpack: unpack,
  Transpose: transpose,
  StridedSlice: stridedSlice,
  Slice: slice,
  Pad: pad,
  PadV2: pad,
  MirrorPad: pad,
  Fill: fill,
  Range: range,
  ZerosLike: likeOp(0),
  OnesLike: likeOp(1),
  Select: select,
  SelectV2: select,
  Gather: gather,
  GatherV2: gather,
  Tile: tile,
};
