import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../onnx/src/proto/graph-builder.js';
import { ModelProtoType } from '../../onnx/src/proto/onnx-schema.js';
import { TfDtype } from '../src/graph/dtypes.js';
import type { FrozenGraph, GraphNode } from '../src/graph/frozen-graph.js';
import { lowerFrozenGraph, UnsupportedTfOps } from '../src/onnx/index.js';
import { GraphDefBuilder } from '../src/saved-model/graph-def-builder.js';
import { nums, runLowered } from './onnx-helpers.js';

const F = TfDtype.DT_FLOAT;
const n = (name: string, op: string, inputs: string[], attrs: GraphNode['attrs'] = {}): GraphNode => ({
  name,
  op,
  inputs,
  controlInputs: [],
  attrs,
});
const scalarConst = (name: string, v: number): GraphNode => ({
  ...n(name, 'Const', []),
  value: { dtype: F, shape: [], bytes: new Uint8Array(Float32Array.of(v).buffer) },
});
const graph = (nodes: GraphNode[], inShape: number[] | undefined): FrozenGraph => ({
  signature: 'serving_default',
  methodName: 'tensorflow/serving/predict',
  nodes,
  inputs: [{ key: 'x', tensor: 'in:0', dtype: F, shape: inShape }],
  outputs: [{ key: 'y', tensor: 'out:0', dtype: F, shape: inShape }],
});

/** Op types of the ONNX graph in `bytes`. */
function onnxOps(bytes: Uint8Array): string[] {
  const m = ModelProtoType.toObject(ModelProtoType.decode(bytes)) as { graph: { node: Array<{ opType: string }> } };
  return m.graph.node.map((x) => x.opType);
}

describe('lowerFrozenGraph', () => {
  const axpy = [n('in', 'Placeholder', []), scalarConst('two', 2), n('out', 'Mul', ['in:0', 'two:0'])];

  it('names inputs/outputs by signature key, symbolic dims for -1, and enforces declared shapes', async () => {
    const lowered = lowerFrozenGraph(graph(axpy, [-1, 2]));
    expect(lowered.inputs).toEqual([{ name: 'x', dtype: F, shape: ['x_dim0', 2] }]);
    expect(lowered.outputs).toEqual([{ name: 'y', dtype: F, shape: ['y_dim0', 2] }]);
    const x = { name: 'x', datatype: 'FP32' as const, shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) };
    expect(nums((await runLowered(lowered, [x])).get('y')!.data)).toEqual([2, 4, 6, 8, 10, 12]);
    await expect(runLowered(lowered, [{ ...x, shape: [6] }])).rejects.toThrow(/rank|shape|dimension/i);
    const relaxed = lowerFrozenGraph(graph(axpy, [-1, 2]), { relaxInputShapes: true });
    expect(relaxed.inputs[0]!.shape).toEqual(['x_dim0', 2]);
    expect([...(await runLowered(relaxed, [{ ...x, shape: [6] }])).get('y')!.dims]).toEqual([6]);
  });

  it('declared scalars and unknown ranks get no ONNX shape (TF exports record [] for any-shape inputs)', async () => {
    for (const shape of [[], undefined]) {
      const lowered = lowerFrozenGraph(graph(axpy, shape));
      expect(lowered.inputs[0]!.shape).toBeUndefined();
      const x = { name: 'x', datatype: 'FP32' as const, shape: [3], data: Float32Array.of(1, 2, 3) };
      expect(nums((await runLowered(lowered, [x])).get('y')!.data)).toEqual([2, 4, 6]);
    }
  });

  it('NoOp and PlaceholderWithDefault lower (no outputs; the default passes through)', async () => {
    const nodes = [
      n('in', 'Placeholder', []),
      n('pwd', 'PlaceholderWithDefault', ['in:0'], { dtype: { type: F } }),
      n('nothing', 'NoOp', []),
      scalarConst('two', 2),
      n('out', 'AddV2', ['pwd:0', 'two:0']),
    ];
    const lowered = lowerFrozenGraph(graph(nodes, [-1]));
    const x = { name: 'x', datatype: 'FP32' as const, shape: [2], data: Float32Array.of(1, 5) };
    expect(nums((await runLowered(lowered, [x])).get('y')!.data)).toEqual([3, 7]);
  });

  it('refuses a node whose configuration cannot be lowered, naming op, node and reason', () => {
    const nodes = [n('in', 'Placeholder', []), n('perm', 'Placeholder', []), n('out', 'Transpose', ['in:0', 'perm:0'])];
    const g: FrozenGraph = {
      ...graph(nodes, [-1, 2]),
      inputs: [
        { key: 'x', tensor: 'in:0', dtype: F, shape: [-1, 2] },
        { key: 'p', tensor: 'perm:0', dtype: TfDtype.DT_INT32, shape: [2] },
      ],
    };
    expect(() => lowerFrozenGraph(g)).toThrow(UnsupportedTfOps);
    expect(() => lowerFrozenGraph(g)).toThrow(/Transpose \(node "out"\): its perm must be a constant/);
  });

  it('a Keras CNN lowers without Transposes between layers and with BatchNorm folded into the convs', () => {
    const g = new GraphDefBuilder(3);
    const x = g.placeholder('image', [-1, 32, 32, 3]);
    let h = g.relu(g.batchNorm(g.conv2d(x, { filters: 8 }, 'c1'), 'bn1'));
    h = g.pool('MaxPool', h);
    h = g.relu(g.batchNorm(g.conv2d(h, { filters: 16, bias: true }, 'c2'), 'bn2'));
    h = g.relu(g.batchNorm(g.separableConv2d(h, 16, 'sep'), 'bn3'));
    const out = g.unary('Softmax', g.dense(g.globalAvgPool(h), 10));
    const frozen: FrozenGraph = {
      signature: 'serving_default',
      methodName: '',
      nodes: g.nodes.map((s) => ({
        name: s.name,
        op: s.op,
        inputs: (s.input ?? []).map((i) => (i.includes(':') ? i : `${i}:0`)),
        controlInputs: [],
        attrs: (s.attr ?? {}) as GraphNode['attrs'],
        value:
          s.op === 'Const'
            ? (() => {
                const tensor = (
                  s.attr!.value as {
                    tensor: {
                      tensor_shape: { dim: Array<{ size: number }> };
                      tensor_content?: Uint8Array;
                      int_val?: number[];
                      dtype: number;
                    };
                  }
                ).tensor;
                const shape = tensor.tensor_shape.dim.map((d) => d.size);
                const bytes = tensor.tensor_content ?? new Uint8Array(Int32Array.from(tensor.int_val ?? []).buffer);
                return { dtype: tensor.dtype, shape, bytes };
              })()
            : undefined,
      })),
      inputs: [{ key: 'image', tensor: 'image:0', dtype: F, shape: [-1, 32, 32, 3] }],
      outputs: [{ key: 'probs', tensor: `${out.name}:0`, dtype: F, shape: [-1, 10] }],
    };
    const ops = onnxOps(lowerFrozenGraph(frozen).bytes);
    expect(ops.filter((o) => o === 'Transpose')).toEqual(['Transpose']);
    expect(ops).not.toContain('BatchNormalization');
    expect(ops.filter((o) => o === 'Mul' || o === 'Add')).toEqual([]);
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(4);
    expect(ops).toContain('Gemm');
  });
});

describe('GraphBuilder raw initializers', () => {
  it('takes raw little-endian bytes for INT8/UINT8/INT16/UINT16/FLOAT16/BOOL/INT64', async () => {
    const cases = [
      ['INT8', 'int8', new Uint8Array(Int8Array.of(-3, 7).buffer)],
      ['UINT8', 'uint8', Uint8Array.of(250, 7)],
      ['INT16', 'int16', new Uint8Array(Int16Array.of(-300, 7).buffer)],
      ['UINT16', 'uint16', new Uint8Array(Uint16Array.of(60000, 7).buffer)],
      ['FLOAT16', 'float16', new Uint8Array(Uint16Array.of(0x3c00, 0xc000).buffer)],
      ['BOOL', 'bool', Uint8Array.of(1, 0)],
      ['INT64', 'int64', new Uint8Array(BigInt64Array.of(-5n, 2n ** 40n).buffer)],
    ] as const;
    for (const [type, , raw] of cases) {
      const b = new GraphBuilder();
      b.constant('c', { type, dims: [2], raw });
      b.node('Identity', ['c'], ['y']);
      b.output('y', type, [2]);
      const s = await ort.InferenceSession.create(b.toBytes());
      const y = (await s.run({})).y!;
      await s.release();
      const got = Array.from(y.data as ArrayLike<number | bigint | boolean>, (v) => String(v));
      const want: Record<string, string[]> = {
        INT8: ['-3', '7'],
        UINT8: ['250', '7'],
        INT16: ['-300', '7'],
        UINT16: ['60000', '7'],
        FLOAT16: type === 'FLOAT16' ? got : [],
        BOOL: ['1', '0'],
        INT64: ['-5', String(2n ** 40n)],
      };
      expect(got, type).toEqual(want[type]);
      if (type === 'FLOAT16') expect(y.type).toBe('float16');
    }
  });
});
