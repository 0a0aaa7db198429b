import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Datatype, InferTensor } from '@servekit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { TfjsSignatureRunner } from '../src/engine/tfjs-engine.js';
import { TfDtype } from '../src/graph/dtypes.js';
import type { FrozenGraph } from '../src/graph/frozen-graph.js';
import { lowerFrozenGraph, OP_TABLE } from '../src/onnx/index.js';
import { GraphDefBuilder, type GraphTensor, seededUniform } from '../src/saved-model/graph-def-builder.js';
import { freezeSavedModel } from '../src/saved-model/load.js';
import { attr, writeSavedModel } from '../src/saved-model/writer.js';
import { expectClose, nums, runLowered } from './onnx-helpers.js';

const F = TfDtype.DT_FLOAT;
const I32 = TfDtype.DT_INT32;
const I64 = TfDtype.DT_INT64;
const B = TfDtype.DT_BOOL;
const T = { T: attr.type(F) };
const tmp = mkdtempSync(join(tmpdir(), 'servekit-onnx-ops-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Ops that at least one case lowered. */
const exercised = new Set<string>();

type Sig = [string, number, number[]];
interface Case {
  name: string;
  build: (g: GraphDefBuilder) => { inputs: Record<string, Sig>; outputs: Record<string, Sig> };
  feeds: InferTensor[];
  /** A graph tfjs computes the same function with (tfjs lacks NCHW kernels); default: the same graph. */
  twin?: Case['build'];
  /** Rename ops in the lowered copy (ops tfjs lacks, checked against their tfjs-supported twin). */
  rename?: Record<string, string>;
}

const V2: Record<number, Datatype> = { [F]: 'FP32', [I32]: 'INT32', [I64]: 'INT64', [B]: 'BOOL' };
const floats = (name: string, shape: number[], seed: number, scale = 1, offset = 0): InferTensor => ({
  name,
  datatype: 'FP32',
  shape,
  data: seededUniform(
    shape.reduce((a, b) => a * b, 1),
    scale,
    seed,
  ).map((v) => v + offset),
});
const ints = (name: string, shape: number[], values: number[]): InferTensor => ({
  name,
  datatype: 'INT32',
  shape,
  data: Int32Array.from(values),
});
const t = (x: GraphTensor | string): string => (typeof x === 'string' ? x : x.name);
const sig = (x: GraphTensor | string, shape: number[], dtype: number = F): Sig => [`${t(x)}:0`, dtype, shape];

function frozenOf(name: string, build: Case['build']): { graph: FrozenGraph; outputs: Record<string, Sig> } {
  const g = new GraphDefBuilder(7);
  const { inputs, outputs } = build(g);
  const dir = join(tmp, name);
  writeSavedModel(dir, { nodes: g.nodes, signatures: { serving_default: { inputs, outputs } } });
  return { graph: freezeSavedModel(dir).signatures[0]!.graph!, outputs };
}

async function check(c: Case): Promise<void> {
  const { graph, outputs } = frozenOf(c.name, c.build);
  const twin = c.twin === undefined ? graph : frozenOf(`${c.name}_twin`, c.twin).graph;
  const runner = await TfjsSignatureRunner.load(twin, 'cpu');
  let want: InferTensor[];
  try {
    want = await runner.run(new Map(c.feeds.map((f) => [f.name, f])));
  } finally {
    runner.dispose();
  }
  const lowerable: FrozenGraph = {
    ...graph,
    nodes: graph.nodes.map((n) => ({ ...n, op: c.rename?.[n.op] ?? n.op })),
  };
  for (const n of lowerable.nodes) exercised.add(n.op);
  const lowered = lowerFrozenGraph(lowerable);
  const got = await runLowered(lowered, c.feeds);
  for (const w of want) {
    const o = got.get(w.name);
    expect(o, `output ${w.name}`).toBeDefined();
    expect([...o!.dims], `${w.name} shape`).toEqual(w.shape);
    expect(V2[outputs[w.name]![1]], `${w.name} dtype`).toBe(w.datatype);
    expectClose(nums(o!.data), nums(w.data as ArrayLike<number | bigint>), 1e-4, 1e-5, w.name);
  }
}

const node = (g: GraphDefBuilder, op: string, inputs: Array<GraphTensor | string>, attrs = {}, name?: string) =>
  g.node(op, inputs.map(t), attrs, name);

/** The batch size of `x` at run time: Shape(x)[0] as an int32 scalar (StridedSlice with shrink_axis_mask). */
function batchSize(g: GraphDefBuilder, x: GraphTensor | string): string {
  const shape = node(g, 'Shape', [x], { T: attr.type(F), out_type: attr.type(I32) });
  const b = g.constInts('b', [1], [0]);
  const e = g.constInts('e', [1], [1]);
  const s = g.constInts('s', [1], [1]);
  return node(g, 'StridedSlice', [shape, b, e, s], {
    T: attr.type(I32),
    Index: attr.type(I32),
    shrink_axis_mask: attr.int(1),
  });
}

/**
 * Conv/BiasAdd/FusedBatchNorm/AvgPool in data format `fmt` between NHWC Transposes (tfjs computes only NHWC, so the
 * NCHW graph is checked against its NHWC twin, same weights), plus BN with a runtime scale and a FusedBatchNormV2.
 */
function nchwGraph(
  g: GraphDefBuilder,
  fmt: 'NCHW' | 'NHWC',
): { inputs: Record<string, Sig>; outputs: Record<string, Sig> } {
  const x = g.placeholder('x', [-1, 8, 8, 3]);
  const scale = g.placeholder('scale', [4]);
  const cf = fmt === 'NCHW';
  const hw = (h: number, w: number): number[] => (cf ? [1, 1, h, w] : [1, h, w, 1]);
  const a = { ...T, data_format: attr.str(fmt) };
  const xin = cf
    ? node(g, 'Transpose', [x, g.constInts('p1', [4], [0, 3, 1, 2])], { ...T, Tperm: attr.type(I32) })
    : x.name;
  const c = node(g, 'Conv2D', [xin, g.randomConst('k', [3, 3, 3, 4], 0.3)], {
    ...a,
    strides: attr.ints(hw(2, 2)),
    padding: attr.str('SAME'),
    dilations: attr.ints(hw(1, 1)),
  });
  const bias = node(g, 'BiasAdd', [c, g.randomConst('bias', [4], 0.1)], a);
  const bnParams = ['g', 'be', 'mu', 'var'].map((n, i) => g.randomConst(n, [4], 0.1, i === 0 || i === 3 ? 1 : 0));
  const bn = node(g, 'FusedBatchNormV3', [bias, ...bnParams], {
    ...a,
    U: attr.type(F),
    epsilon: { f: 0.001 },
    is_training: attr.bool(false),
  });
  const pool = node(g, 'AvgPool', [bn], {
    ...a,
    ksize: attr.ints(hw(2, 2)),
    strides: attr.ints(hw(2, 2)),
    padding: attr.str('VALID'),
  });
  const out = cf
    ? node(g, 'Transpose', [pool, g.constInts('p2', [4], [0, 2, 3, 1])], { ...T, Tperm: attr.type(I32) })
    : pool;
  const nhwc = g.conv2d(g.placeholder('y', [-1, 6, 6, 4]), { filters: 4 }, 'conv_y');
  const rbnParams = ['rb', 'rm', 'rv'].map((n, i) => g.randomConst(n, [4], 0.1, i === 2 ? 1 : 0));
  const rbn = node(g, 'FusedBatchNorm', [nhwc, scale, ...rbnParams], {
    ...T,
    data_format: attr.str('NHWC'),
    epsilon: { f: 0.01 },
    is_training: attr.bool(false),
  });
  const bn2Params = ['g2', 'b2', 'm2', 'v2'].map((n, i) => g.randomConst(n, [4], 0.1, i === 0 || i === 3 ? 1 : 0));
  const bn2 = node(g, 'FusedBatchNormV2', [nhwc, ...bn2Params], {
    ...T,
    U: attr.type(F),
    data_format: attr.str('NHWC'),
    epsilon: { f: 0.01 },
    is_training: attr.bool(false),
  });
  return {
    inputs: { x: sig(x, [-1, 8, 8, 3]), scale: sig(scale, [4]), y: ['y:0', F, [-1, 6, 6, 4]] },
    outputs: { pool: sig(out, [-1, 2, 2, 4]), rbn: sig(rbn, [-1, 6, 6, 4]), bn2: sig(bn2, [-1, 6, 6, 4]) },
  };
}

const cases: Case[] = [
  {
    name: 'cnn_nhwc',
    build: (g) => {
      const x = g.placeholder('image', [-1, 15, 15, 3]);
      let h = g.relu(g.batchNorm(g.conv2d(x, { filters: 8 }, 'c1'), 'bn1'));
      h = g.conv2d(h, { filters: 8, bias: true, stride: 2 }, 'c2');
      h = g.unary('Relu6', g.batchNorm(h, 'bn2'));
      const skip = h;
      h = g.depthwiseConv2d(h, { multiplier: 2, bias: true }, 'dw');
      h = g.conv2d(g.relu(h), { filters: 8, kernel: 1 }, 'pw');
      h = g.add(h, skip);
      h = g.pool('MaxPool', h, { size: 3, stride: 2, padding: 'SAME' });
      const avg = g.pool('AvgPool', h, { size: 2, stride: 1, padding: 'SAME' });
      const bnNoConv = g.batchNorm(avg, 'bn3');
      const gap = g.globalAvgPool(bnNoConv);
      const d = g.dense(gap, 5);
      const p = g.unary('Softmax', d);
      return {
        inputs: { image: sig(x, [-1, 15, 15, 3]) },
        outputs: { probs: sig(p, [-1, 5]), feat: sig(bnNoConv, [-1, 4, 4, 8]) },
      };
    },
    feeds: [floats('image', [2, 15, 15, 3], 11)],
  },
  {
    name: 'cnn_dynamic_spatial',
    build: (g) => {
      const x = g.placeholder('image', [-1, -1, -1, 3]);
      x.shape = [-1, -1, -1, 3];
      let h = g.conv2d(x, { filters: 4, stride: 2, dilation: 1 }, 'c1');
      h = g.conv2d(h, { filters: 4, kernel: 3, dilation: 2 }, 'c2');
      h = g.separableConv2d(h, 6, 'sep');
      h = g.pool('MaxPool', h, { size: 2, padding: 'SAME' });
      return { inputs: { image: sig(x, [-1, -1, -1, 3]) }, outputs: { y: sig(h, [-1, -1, -1, 6]) } };
    },
    feeds: [floats('image', [2, 13, 10, 3], 12)],
  },
  {
    name: 'transpose_conv',
    build: (g) => {
      const x = g.placeholder('x', [-1, 5, 5, 4]);
      const batch = batchSize(g, x);
      const dims = ['h', 'w', 'c'].map((n, i) => g.constInts(n, [], [[10, 10, 3][i]!]));
      const sizes = node(g, 'Pack', [batch, ...dims], { T: attr.type(I32), N: attr.int(4), axis: attr.int(0) });
      const f = g.randomConst('filter', [3, 3, 3, 4], 0.3);
      const y = node(g, 'Conv2DBackpropInput', [sizes, f, x], {
        ...T,
        strides: attr.ints([1, 2, 2, 1]),
        padding: attr.str('SAME'),
        data_format: attr.str('NHWC'),
        dilations: attr.ints([1, 1, 1, 1]),
      });
      const bn = g.batchNorm({ name: y, shape: [-1, 10, 10, 3] }, 'bn');
      const sizes2 = g.constInts('sizes2', [4], [2, 12, 11, 2]);
      const f2 = g.randomConst('filter2', [4, 3, 2, 4], 0.3);
      const y2 = node(g, 'Conv2DBackpropInput', [sizes2, f2, x], {
        ...T,
        strides: attr.ints([1, 2, 2, 1]),
        padding: attr.str('VALID'),
        data_format: attr.str('NHWC'),
      });
      return {
        inputs: { x: sig(x, [-1, 5, 5, 4]) },
        outputs: { y: sig(bn, [-1, 10, 10, 3]), y2: sig(y2, [2, 12, 11, 2]) },
      };
    },
    feeds: [floats('x', [2, 5, 5, 4], 13)],
  },
  {
    name: 'flatten_dense',
    build: (g) => {
      const x = g.placeholder('x', [-1, 4, 4, 2]);
      const c = g.conv2d(x, { filters: 3 }, 'conv');
      const batch = batchSize(g, c);
      const m1 = g.constInts('m1', [], [-1]);
      const target = node(g, 'Pack', [batch, m1], { T: attr.type(I32), N: attr.int(2), axis: attr.int(0) });
      const flat = node(g, 'Reshape', [c.name, target], { ...T, Tshape: attr.type(I32) });
      const kflat = g.flatten(c, 'kflat');
      const w = g.randomConst('w', [3, 48], 0.2);
      const mm = node(g, 'MatMul', [flat, w], { ...T, transpose_a: attr.bool(false), transpose_b: attr.bool(true) });
      const bias = g.biasAdd(mm, 3, 'bias');
      const sum = node(g, 'AddN', [bias, bias, bias], { ...T, N: attr.int(3) });
      return {
        inputs: { x: sig(x, [-1, 4, 4, 2]) },
        outputs: { y: sig(sum, [-1, 3]), k: sig(kflat, [-1, 48]) },
      };
    },
    feeds: [floats('x', [3, 4, 4, 2], 14)],
  },
  ...(['ResizeBilinear', 'ResizeNearestNeighbor'] as const).flatMap((op) =>
    (
      [
        [false, false],
        [true, false],
        [false, true],
      ] as const
    ).map(
      ([ac, hp]): Case => ({
        name: `${op}_${ac ? 'ac' : ''}${hp ? 'hp' : ''}`,
        build: (g) => {
          const x = g.placeholder('x', [-1, 5, 7, 2]);
          const c = g.conv2d(x, { filters: 2 }, 'conv');
          const a = { ...T, align_corners: attr.bool(ac), half_pixel_centers: attr.bool(hp) };
          const up = node(g, op, [c, g.constInts('up', [2], [11, 9])], a, 'up');
          const down = node(g, op, [x, g.constInts('down', [2], [3, 4])], a, 'down');
          return {
            inputs: { x: sig(x, [-1, 5, 7, 2]) },
            outputs: { up: sig(up, [-1, 11, 9, 2]), down: sig(down, [-1, 3, 4, 2]) },
          };
        },
        feeds: [floats('x', [2, 5, 7, 2], 15)],
      }),
    ),
  ),
  {
    name: 'concat_pad_transpose',
    build: (g) => {
      const x = g.placeholder('x', [-1, 6, 5, 3]);
      const a = g.conv2d(x, { filters: 2 }, 'a');
      const b = g.conv2d(x, { filters: 3 }, 'b');
      const axis = g.constInts('axis', [], [-1]);
      const cat = node(g, 'ConcatV2', [a, b, axis], { ...T, N: attr.int(2), Tidx: attr.type(I32) });
      const pads = g.constInts('pads', [4, 2], [0, 0, 1, 2, 2, 1, 0, 0]);
      const zp = node(g, 'Pad', [cat, pads], { ...T, Tpaddings: attr.type(I32) });
      const conv = g.conv2d({ name: zp, shape: [-1, 9, 8, 5] }, { filters: 2, padding: 'VALID' }, 'after_pad');
      const cv = g.constFloats('cv', [], [0.5]);
      const p2 = node(g, 'PadV2', [x, pads, cv], { ...T, Tpaddings: attr.type(I32) });
      const mp = g.constInts('mp', [4, 2], [0, 0, 2, 1, 1, 2, 0, 0]);
      const refl = node(
        g,
        'MirrorPad',
        [x, mp],
        { ...T, Tpaddings: attr.type(I32), mode: attr.str('REFLECT') },
        'refl',
      );
      const sym = node(
        g,
        'MirrorPad',
        [x, mp],
        { ...T, Tpaddings: attr.type(I32), mode: attr.str('SYMMETRIC') },
        'sym',
      );
      const perm = g.constInts('perm', [4], [0, 3, 1, 2]);
      const tr = node(g, 'Transpose', [conv, perm], { ...T, Tperm: attr.type(I32) });
      const perm2 = g.constInts('perm2', [4], [2, 0, 3, 1]);
      const tr2 = node(g, 'Transpose', [x, perm2], { ...T, Tperm: attr.type(I32) });
      const axis0 = g.constInts('axis0', [], [1]);
      const cat0 = node(g, 'ConcatV2', [x, x, axis0], { ...T, N: attr.int(2), Tidx: attr.type(I32) });
      return {
        inputs: { x: sig(x, [-1, 6, 5, 3]) },
        outputs: {
          tr: sig(tr, [-1, 2, 7, 4]),
          p2: sig(p2, [-1, 9, 8, 3]),
          refl: sig(refl, [-1, 9, 8, 3]),
          sym: sig(sym, [-1, 9, 8, 3]),
          tr2: sig(tr2, [6, -1, 3, 5]),
          cat0: sig(cat0, [-1, 12, 5, 3]),
        },
      };
    },
    feeds: [floats('x', [2, 6, 5, 3], 16)],
  },
  {
    name: 'elementwise',
    build: (g) => {
      const x = g.placeholder('x', [-1, 6]);
      const y = g.placeholder('y', [-1, 6]);
      const bin = (op: string, a: string, b: string) => node(g, op, [a, b], T, op.toLowerCase());
      const un = (op: string, a: string, attrs = {}) => node(g, op, [a], { ...T, ...attrs }, op.toLowerCase());
      const pos = un('Abs', x.name);
      const pos1 = bin('AddV2', pos, g.constFloats('one', [], [1]));
      const outs: Record<string, string> = {
        add: bin('Add', x.name, y.name),
        sub: bin('Sub', x.name, y.name),
        mul: bin('Mul', x.name, y.name),
        realdiv: bin('RealDiv', x.name, pos1),
        div: bin('Div', y.name, pos1),
        floordiv: bin('FloorDiv', y.name, pos1),
        floormod: bin('FloorMod', y.name, pos1),
        pow: bin('Pow', pos1, y.name),
        sqd: bin('SquaredDifference', x.name, y.name),
        max: bin('Maximum', x.name, y.name),
        min: bin('Minimum', x.name, y.name),
        leaky: un('LeakyRelu', x.name, { alpha: { f: 0.1 } }),
        elu: un('Elu', x.name),
        selu: un('Selu', x.name),
        sigmoid: un('Sigmoid', x.name),
        tanh: un('Tanh', x.name),
        softplus: un('Softplus', x.name),
        square: un('Square', x.name),
        sqrt: un('Sqrt', pos1),
        rsqrt: un('Rsqrt', pos1),
        recip: un('Reciprocal', pos1),
        exp: un('Exp', x.name),
        log: un('Log', pos1),
        log1p: un('Log1p', pos),
        neg: un('Neg', x.name),
        sign: un('Sign', x.name),
        floor: un('Floor', x.name),
        ceil: un('Ceil', x.name),
        round: un('Round', bin('Mul', x.name, g.constFloats('three', [], [3]))),
        sin: un('Sin', x.name),
        cos: un('Cos', x.name),
        erf: un('Erf', x.name),
        logsoftmax: un('LogSoftmax', x.name),
        relu6: un('Relu6', bin('Mul', x.name, g.constFloats('ten', [], [10]))),
      };
      const cmp = (op: string) => node(g, op, [x.name, y.name], T, op.toLowerCase());
      const sel = node(g, 'SelectV2', [cmp('Greater'), x.name, y.name], T, 'select2');
      const sel1 = node(g, 'Select', [cmp('Less'), x.name, y.name], T, 'select1');
      const logic = node(
        g,
        'LogicalOr',
        [node(g, 'LogicalAnd', [cmp('GreaterEqual'), node(g, 'LogicalNot', [cmp('LessEqual')])]), cmp('Equal')],
        {},
      );
      const ne = cmp('NotEqual');
      const toF = (b: string) => node(g, 'Cast', [b], { SrcT: attr.type(B), DstT: attr.type(F) });
      const id = node(g, 'IdentityN', [sel, sel1], { T: attr.types([F, F]) });
      const snap = node(g, 'Snapshot', [`${id}:1`], T);
      const stop = node(g, 'StopGradient', [snap], T);
      const ens = node(g, 'Identity', [`${id}:0`], T);
      const outputs: Record<string, Sig> = Object.fromEntries(
        Object.entries(outs).map(([k, v]) => [k, sig(v, [-1, 6])]),
      );
      outputs.sel = sig(ens, [-1, 6]);
      outputs.sel1 = sig(stop, [-1, 6]);
      outputs.logic = sig(toF(logic), [-1, 6]);
      outputs.ne = sig(toF(ne), [-1, 6]);
      return { inputs: { x: sig(x, [-1, 6]), y: sig(y, [-1, 6]) }, outputs };
    },
    feeds: [floats('x', [3, 6], 17, 2), floats('y', [3, 6], 18, 2)],
  },
  {
    name: 'reductions',
    build: (g) => {
      const x = g.placeholder('x', [-1, 4, 5, 3]);
      const ax = g.placeholder('axes', [2], I32);
      const c = g.conv2d(x, { filters: 3 }, 'conv');
      const outputs: Record<string, Sig> = {};
      const red = (op: string, input: string, axes: string, keep: boolean, shape: number[]) => {
        const n = node(
          g,
          op,
          [input, axes],
          { ...T, Tidx: attr.type(I32), keep_dims: attr.bool(keep) },
          `${op}${keep ? 'K' : ''}`,
        );
        outputs[n] = sig(n, shape);
      };
      const a12 = g.constInts('a12', [2], [1, 2]);
      const a1 = g.constInts('a1', [1], [1]);
      const aNeg = g.constInts('aneg', [], [-1]);
      red('Mean', c.name, a12, false, [-1, 3]);
      red('Mean', c.name, a1, true, [-1, 1, 5, 3]);
      red('Sum', c.name, a1, false, [-1, 5, 3]);
      red('Max', x.name, aNeg, false, [-1, 4, 5]);
      red('Min', c.name, aNeg, true, [-1, 4, 5, 1]);
      red('Prod', x.name, a12, false, [-1, 3]);
      red('Sum', x.name, ax.name, false, [-1, -1]);
      const gt = node(g, 'Greater', [x.name, g.constFloats('z', [], [0])], T);
      const all = node(g, 'All', [gt, a12], { Tidx: attr.type(I32), keep_dims: attr.bool(false) });
      const any = node(g, 'Any', [gt, a12], { Tidx: attr.type(I32), keep_dims: attr.bool(false) });
      outputs.all = sig(node(g, 'Cast', [all], { SrcT: attr.type(B), DstT: attr.type(F) }), [-1, 3]);
      outputs.any = sig(node(g, 'Cast', [any], { SrcT: attr.type(B), DstT: attr.type(F) }), [-1, 3]);
      const am = node(g, 'ArgMax', [x.name, aNeg], { ...T, Tidx: attr.type(I32), output_type: attr.type(I32) });
      const an = node(g, 'ArgMin', [x.name, g.constInts('one', [], [1])], {
        ...T,
        Tidx: attr.type(I32),
        output_type: attr.type(I64),
      });
      outputs.argmax = sig(am, [-1, 4, 5], I32);
      outputs.argmin = sig(an, [-1, 5, 3], I64);
      return { inputs: { x: sig(x, [-1, 4, 5, 3]), axes: sig(ax, [2], I32) }, outputs };
    },
    feeds: [floats('x', [2, 4, 5, 3], 19), ints('axes', [2], [1, 3])],
  },
  {
    name: 'slicing_and_shapes',
    build: (g) => {
      const x = g.placeholder('x', [-1, 4, 5, 6]);
      const outputs: Record<string, Sig> = {};
      const ss = (
        name: string,
        b: number[],
        e: number[],
        s: number[],
        masks: Record<string, number>,
        shape: number[],
      ) => {
        const n = node(
          g,
          'StridedSlice',
          [
            x,
            g.constInts(`${name}/b`, [b.length], b),
            g.constInts(`${name}/e`, [e.length], e),
            g.constInts(`${name}/s`, [s.length], s),
          ],
          {
            ...T,
            Index: attr.type(I32),
            ...Object.fromEntries(Object.entries(masks).map(([k, v]) => [k, attr.int(v)])),
          },
          name,
        );
        outputs[name] = sig(n, shape);
      };
      ss('ss_basic', [0, 1, 0], [0, 3, 5], [1, 1, 2], { begin_mask: 1, end_mask: 1 }, [-1, 2, 3, 6]);
      ss('ss_ellipsis', [0, 1], [0, 5], [1, 2], { ellipsis_mask: 1 }, [-1, 4, 5, 3]);
      ss(
        'ss_shrink_newaxis',
        [0, 2, 0, -1],
        [0, 3, 0, 0],
        [1, 1, 1, 1],
        { begin_mask: 1, end_mask: 1, shrink_axis_mask: 10, new_axis_mask: 4 },
        [-1, 1, 5],
      );
      ss('ss_negative', [0, -1, 4], [0, 0, 0], [1, -1, -2], { begin_mask: 1, end_mask: 5 }, [-1, 3, 3, 6]);
      ss('ss_ellipsis_mid', [1, 0, 2], [3, 0, 5], [1, 1, 1], { ellipsis_mask: 2, begin_mask: 0 }, [2, 4, 5, 3]);
      const sl = node(
        g,
        'Slice',
        [x, g.constInts('sl/b', [4], [0, 1, 2, 0]), g.constInts('sl/s', [4], [-1, 2, -1, 3])],
        { ...T, Index: attr.type(I32) },
      );
      outputs.slice = sig(sl, [-1, 2, 3, 3]);
      const idx = g.constInts('idx', [3], [4, 0, 2]);
      const gat = node(g, 'GatherV2', [x, idx, g.constInts('gax', [], [2])], {
        Tparams: attr.type(F),
        Tindices: attr.type(I32),
        Taxis: attr.type(I32),
        batch_dims: attr.int(0),
      });
      outputs.gather = sig(gat, [-1, 4, 3, 6]);
      const table = g.randomConst('table', [7, 3], 1);
      const gat1 = node(g, 'Gather', [table, g.constInts('ids', [2, 2], [6, 0, 3, 3])], {
        Tparams: attr.type(F),
        Tindices: attr.type(I32),
      });
      outputs.gather1 = sig(gat1, [2, 2, 3]);
      const sq = node(g, 'Squeeze', [outputs.ss_shrink_newaxis![0].split(':')[0]!], {
        ...T,
        squeeze_dims: attr.ints([1]),
      });
      outputs.squeeze = sig(sq, [-1, 5]);
      const ed = node(g, 'ExpandDims', [sq, g.constInts('edim', [], [-1])], { ...T, Tdim: attr.type(I32) });
      outputs.expand = sig(ed, [-1, 5, 1]);
      const un = node(g, 'Unpack', [x], { ...T, num: attr.int(4), axis: attr.int(1) });
      const pk = node(g, 'Pack', [`${un}:3`, `${un}:1`], { ...T, N: attr.int(2), axis: attr.int(-1) });
      outputs.pack = sig(pk, [-1, 5, 6, 2]);
      const tl = node(g, 'Tile', [sq, g.constInts('mult', [2], [2, 3])], { ...T, Tmultiples: attr.type(I32) });
      outputs.tile = sig(tl, [-1, 15]);
      outputs.zeros = sig(node(g, 'ZerosLike', [x], T), [-1, 4, 5, 6]);
      outputs.ones = sig(node(g, 'OnesLike', [sq], T), [-1, 5]);
      const shp = node(g, 'Shape', [x], { T: attr.type(F), out_type: attr.type(I32) });
      outputs.shape = sig(shp, [4], I32);
      outputs.size = sig(node(g, 'Size', [x], { T: attr.type(F), out_type: attr.type(I32) }), [], I32);
      outputs.rank = sig(node(g, 'Rank', [x], T), [], I32);
      const fillDims = node(
        g,
        'Pack',
        [
          node(
            g,
            'StridedSlice',
            [shp, g.constInts('f/b', [1], [0]), g.constInts('f/e', [1], [1]), g.constInts('f/s', [1], [1])],
            { T: attr.type(I32), Index: attr.type(I32), shrink_axis_mask: attr.int(1) },
          ),
          g.constInts('three', [], [3]),
        ],
        { T: attr.type(I32), N: attr.int(2), axis: attr.int(0) },
      );
      outputs.fill = sig(
        node(g, 'Fill', [fillDims, g.constFloats('fv', [], [2.5])], { ...T, index_type: attr.type(I32) }),
        [-1, 3],
      );
      const rg = node(
        g,
        'Range',
        [g.constInts('r0', [], [1]), g.constInts('r1', [], [10]), g.constInts('r2', [], [3])],
        { Tidx: attr.type(I32) },
      );
      outputs.range = sig(rg, [3], I32);
      const rgf = node(
        g,
        'Range',
        [
          g.constFloats('rf0', [], [0]),
          node(g, 'Cast', [node(g, 'Size', [x], { T: attr.type(F), out_type: attr.type(I32) })], {
            SrcT: attr.type(I32),
            DstT: attr.type(F),
          }),
          g.constFloats('rf2', [], [40]),
        ],
        { Tidx: attr.type(F) },
      );
      outputs.rangef = sig(rgf, [-1]);
      return { inputs: { x: sig(x, [-1, 4, 5, 6]) }, outputs };
    },
    feeds: [floats('x', [2, 4, 5, 6], 20)],
  },
  {
    name: 'matmuls',
    build: (g) => {
      const a = g.placeholder('a', [-1, 3, 4]);
      const b = g.placeholder('b', [-1, 4, 5]);
      const m = g.placeholder('m', [4, 3]);
      const bm = node(g, 'BatchMatMulV2', [a, b], { ...T, adj_x: attr.bool(false), adj_y: attr.bool(false) }, 'bmm');
      const bmAdj = node(g, 'BatchMatMul', [b, a], { ...T, adj_x: attr.bool(true), adj_y: attr.bool(true) }, 'bmm_adj');
      const mm = node(g, 'MatMul', [m, m], { ...T, transpose_a: attr.bool(true), transpose_b: attr.bool(false) });
      const mmC = node(g, 'MatMul', [g.randomConst('k', [3, 2], 1), m], {
        ...T,
        transpose_a: attr.bool(true),
        transpose_b: attr.bool(true),
      });
      const ein = node(g, 'Einsum', [a, b], { ...T, N: attr.int(2), equation: attr.str('bij,bjk->bik') });
      return {
        inputs: { a: sig(a, [-1, 3, 4]), b: sig(b, [-1, 4, 5]), m: sig(m, [4, 3]) },
        outputs: {
          bmm: sig(bm, [-1, 3, 5]),
          bmm_adj: sig(bmAdj, [-1, 5, 3]),
          mm: sig(mm, [3, 3]),
          mmc: sig(mmC, [2, 4]),
          ein: sig(ein, [-1, 3, 5]),
        },
      };
    },
    feeds: [floats('a', [2, 3, 4], 21), floats('b', [2, 4, 5], 22), floats('m', [4, 3], 23)],
  },
  {
    name: 'batchmatmul_v3',
    build: (g) => {
      const a = g.placeholder('a', [-1, 3, 4]);
      const b = g.placeholder('b', [-1, 5, 4]);
      const bm = node(g, 'BatchMatMulV2', [a, b], { ...T, adj_x: attr.bool(false), adj_y: attr.bool(true) }, 'bmm');
      return { inputs: { a: sig(a, [-1, 3, 4]), b: sig(b, [-1, 5, 4]) }, outputs: { bmm: sig(bm, [-1, 3, 5]) } };
    },
    feeds: [floats('a', [2, 3, 4], 24), floats('b', [2, 5, 4], 25)],
    rename: { BatchMatMulV2: 'BatchMatMulV3' },
  },
  {
    name: 'nchw_and_runtime_bn',
    build: (g) => nchwGraph(g, 'NCHW'),
    twin: (g) => nchwGraph(g, 'NHWC'),
    feeds: [floats('x', [2, 8, 8, 3], 26), floats('scale', [4], 27, 0.2, 1), floats('y', [2, 6, 6, 4], 28)],
  },
  {
    name: 'int_ops',
    build: (g) => {
      const x = g.placeholder('x', [-1, 4], I32);
      const y = g.placeholder('y', [-1, 4], I32);
      const i = { T: attr.type(I32) };
      const fd = node(g, 'FloorDiv', [x, y], i);
      const mx = node(g, 'Maximum', [x, y], i);
      const mul = node(g, 'Mul', [x, y], i);
      const z = g.placeholder('z', [-1, 4], I32);
      const u8 = node(g, 'Cast', [z], { SrcT: attr.type(I32), DstT: attr.type(TfDtype.DT_UINT8) });
      const u8mul = node(
        g,
        'Mul',
        [
          u8,
          g.node(
            'Const',
            [],
            {
              dtype: attr.type(TfDtype.DT_UINT8),
              value: { tensor: { dtype: TfDtype.DT_UINT8, tensor_shape: { dim: [] }, int_val: [3] } },
            },
            'three',
          ),
        ],
        { T: attr.type(TfDtype.DT_UINT8) },
      );
      const back = node(g, 'Cast', [u8mul], { SrcT: attr.type(TfDtype.DT_UINT8), DstT: attr.type(I32) });
      const toF = node(g, 'Cast', [x], { SrcT: attr.type(I32), DstT: attr.type(F) });
      const trunc = node(g, 'Cast', [node(g, 'Mul', [toF, g.constFloats('k', [], [0.7])], T)], {
        SrcT: attr.type(F),
        DstT: attr.type(I32),
      });
      return {
        inputs: { x: sig(x, [-1, 4], I32), y: sig(y, [-1, 4], I32), z: ['z:0', I32, [-1, 4]] },
        outputs: {
          fd: sig(fd, [-1, 4], I32),
          mx: sig(mx, [-1, 4], I32),
          mul: sig(mul, [-1, 4], I32),
          u8: sig(back, [-1, 4], I32),
          trunc: sig(trunc, [-1, 4], I32),
        },
      };
    },
    feeds: [
      ints('x', [2, 4], [7, -7, 9, 0, 100, 5, -3, 60]),
      ints('y', [2, 4], [2, 2, -4, 3, 7, -2, 5, 9]),
      ints('z', [2, 4], [0, 1, 17, 85, 40, 2, 3, 60]),
    ],
  },
];

describe('TF ops lowered to ONNX equal tfjs (cpu)', () => {
  it.each(cases)('$name', async (c) => {
    await check(c);
  });

  it('every op in the lowering table is exercised (NoOp and PlaceholderWithDefault aside)', () => {
    // NoOp has no outputs and PlaceholderWithDefault is replaced by freezing: both are checked in onnx-lower.test.ts.
    console.log(`[onnx lowering] ops exercised: ${[...exercised].sort().join(' ')}`);
    const missing = Object.keys(OP_TABLE).filter(
      (op) => !exercised.has(op) && op !== 'NoOp' && op !== 'PlaceholderWithDefault',
    );
    expect(missing).toEqual([]);
  });
});
