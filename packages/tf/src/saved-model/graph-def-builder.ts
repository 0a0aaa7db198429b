import { TfDtype } from '../graph/dtypes.js';
import { attr, type NodeSpec, type SigSpec, writeSavedModel } from './writer.js';

/** Deterministic pseudo-random numbers uniform in [-scale, scale) (an LCG; the same seed gives the same values). */
export function seededUniform(n: number, scale: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** Padding of a convolution or pooling layer, as TF names it. */
export type TfPadding = 'SAME' | 'VALID';

/** Options of `conv2d`. */
export interface Conv2dOptions {
  /** Output channels. */
  filters: number;
  /** Square kernel size (default 3). */
  kernel?: number;
  /** Stride in H and W (default 1). */
  stride?: number;
  /** Padding (default SAME). */
  padding?: TfPadding;
  /** Add a bias (BiasAdd) after the convolution (default false: Keras convs before BN have none). */
  bias?: boolean;
  /** Dilation in H and W (default 1). */
  dilation?: number;
}

/** Options of a pooling layer. */
export interface PoolOptions {
  /** Square window (default 2). */
  size?: number;
  /** Stride (default = size). */
  stride?: number;
  /** Padding (default VALID). */
  padding?: TfPadding;
}

/** A tensor of the graph being built: its `node:index` name and its static NHWC shape (-1 = unknown, e.g. batch). */
export interface GraphTensor {
  /** Tensor name (`node` or `node:1`). */
  name: string;
  /** Static shape; channels (last dim) are always known for layers built here. */
  shape: number[];
}

const F = TfDtype.DT_FLOAT;
const T = { T: attr.type(F) };
const NHWC = { data_format: attr.str('NHWC') };

/**
 * Builds Keras-style inference GraphDefs (NHWC, float32, weights as seeded random constants) and writes them as
 * SavedModels. For tests, benchmarks and examples: what a frozen Keras model looks like to servekit, without
 * TensorFlow. Layers return the output tensor; `node()` adds any other op.
 */
export class GraphDefBuilder {
  /** The NodeDefs so far, in topological order. */
  readonly nodes: NodeSpec[] = [];
  private seed: number;
  private readonly used = new Set<string>();

  /** `seed` makes the random weights reproducible. */
  constructor(seed = 1) {
    this.seed = seed;
  }

  /** A node name not used yet, from `base`. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Add a raw NodeDef (attrs in TF AttrValue message form, see `attr` of writer.ts); returns its name. */
  node(op: string, inputs: string[], attrs: Record<string, unknown> = {}, name = op.toLowerCase()): string {
    const n = this.unique(name);
    this.nodes.push({ name: n, op, input: inputs, attr: attrs });
    return n;
  }

  /** A float32 Placeholder of `shape` (-1 for unknown dims). */
  placeholder(name: string, shape: number[], dtype: number = F): GraphTensor {
    const n = this.unique(name);
    this.nodes.push({ name: n, op: 'Placeholder', attr: { dtype: attr.type(dtype), shape: attr.shape(shape) } });
    return { name: n, shape };
  }

  /** A float32 Const with the given values. */
  constFloats(name: string, shape: number[], values: ArrayLike<number>): string {
    const n = this.unique(name);
    this.nodes.push({
      name: n,
      op: 'Const',
      attr: { dtype: attr.type(F), value: attr.floats(shape, values) },
    });
    return n;
  }

  /** An int32 Const (axes, shapes, paddings). */
  constInts(name: string, shape: number[], values: number[]): string {
    const n = this.unique(name);
    this.nodes.push({
      name: n,
      op: 'Const',
      attr: { dtype: attr.type(TfDtype.DT_INT32), value: attr.intTensor(shape, values) },
    });
    return n;
  }

  /** A float32 Const of seeded random values in [-scale, scale), plus `offset`. */
  randomConst(name: string, shape: number[], scale: number, offset = 0): string {
    const values = seededUniform(
      shape.reduce((a, b) => a * b, 1),
      scale,
      this.seed++,
    );
    if (offset !== 0) for (let i = 0; i < values.length; i++) values[i]! += offset;
    return this.constFloats(name, shape, values);
  }

  /** Conv2D (NHWC, HWIO kernel with He-scaled random weights), optional BiasAdd. */
  conv2d(x: GraphTensor, o: Conv2dOptions, name = 'conv'): GraphTensor {
    const k = o.kernel ?? 3;
    const cin = x.shape[3]!;
    const w = this.randomConst(`${name}/kernel`, [k, k, cin, o.filters], Math.sqrt(6 / (k * k * cin)));
    return this.convNode('Conv2D', x, w, o, o.filters, name);
  }

  /** DepthwiseConv2dNative with channel multiplier `multiplier`. */
  depthwiseConv2d(
    x: GraphTensor,
    o: Omit<Conv2dOptions, 'filters'> & { multiplier?: number },
    name = 'dwconv',
  ): GraphTensor {
    const k = o.kernel ?? 3;
    const m = o.multiplier ?? 1;
    const cin = x.shape[3]!;
    const w = this.randomConst(`${name}/depthwise_kernel`, [k, k, cin, m], Math.sqrt(6 / (k * k)));
    return this.convNode('DepthwiseConv2dNative', x, w, o, cin * m, name);
  }

  /** A Conv2D-like node on `x` with kernel `w` (square, from `o`), optional BiasAdd; `out` output channels. */
  private convNode(
    op: string,
    x: GraphTensor,
    w: string,
    o: Omit<Conv2dOptions, 'filters'>,
    out: number,
    name: string,
  ): GraphTensor {
    const k = o.kernel ?? 3;
    const stride = o.stride ?? 1;
    const d = o.dilation ?? 1;
    const padding = o.padding ?? 'SAME';
    let y = this.node(
      op,
      [x.name, w],
      {
        ...T,
        ...NHWC,
        strides: attr.ints([1, stride, stride, 1]),
        padding: attr.str(padding),
        dilations: attr.ints([1, d, d, 1]),
      },
      name,
    );
    if (o.bias) y = this.biasAdd(y, out, `${name}/bias_add`);
    return { name: y, shape: [x.shape[0]!, ...spatial(x.shape, k, stride, padding, d), out] };
  }

  /** Keras SeparableConv2D: depthwise 3×3 then pointwise 1×1. */
  separableConv2d(x: GraphTensor, filters: number, name = 'sepconv', stride = 1): GraphTensor {
    const dw = this.depthwiseConv2d(x, { stride }, `${name}/depthwise`);
    return this.conv2d(dw, { filters, kernel: 1 }, `${name}/pointwise`);
  }

  /** FusedBatchNormV3 in inference mode with random gamma/beta/mean/variance. */
  batchNorm(x: GraphTensor, name = 'bn', epsilon = 0.001): GraphTensor {
    const c = x.shape[x.shape.length - 1]!;
    const gamma = this.randomConst(`${name}/gamma`, [c], 0.1, 1);
    const beta = this.randomConst(`${name}/beta`, [c], 0.1);
    const mean = this.randomConst(`${name}/moving_mean`, [c], 0.1);
    const variance = this.randomConst(`${name}/moving_variance`, [c], 0.1, 1);
    const y = this.node(
      'FusedBatchNormV3',
      [x.name, gamma, beta, mean, variance],
      { ...T, U: attr.type(F), ...NHWC, epsilon: { f: epsilon }, is_training: attr.bool(false) },
      name,
    );
    return { name: y, shape: x.shape };
  }

  /** A unary op that keeps the shape (Relu, Relu6, Sigmoid, Tanh, Softmax, Elu…). */
  unary(op: string, x: GraphTensor, name = op.toLowerCase()): GraphTensor {
    return { name: this.node(op, [x.name], T, name), shape: x.shape };
  }

  /** Relu. */
  relu(x: GraphTensor, name = 'relu'): GraphTensor {
    return this.unary('Relu', x, name);
  }

  /** AddV2 of two tensors of the same shape (residual connections). */
  add(a: GraphTensor, b: GraphTensor, name = 'add'): GraphTensor {
    return { name: this.node('AddV2', [a.name, b.name], T, name), shape: a.shape };
  }

  /** MaxPool or AvgPool (NHWC). */
  pool(op: 'MaxPool' | 'AvgPool', x: GraphTensor, o: PoolOptions = {}, name = op.toLowerCase()): GraphTensor {
    const size = o.size ?? 2;
    const stride = o.stride ?? size;
    const padding = o.padding ?? 'VALID';
    const y = this.node(
      op,
      [x.name],
      {
        ...T,
        ...NHWC,
        ksize: attr.ints([1, size, size, 1]),
        strides: attr.ints([1, stride, stride, 1]),
        padding: attr.str(padding),
      },
      name,
    );
    return { name: y, shape: [x.shape[0]!, ...spatial(x.shape, size, stride, padding, 1), x.shape[3]!] };
  }

  /** Keras GlobalAveragePooling2D: Mean over H and W → [N, C]. */
  globalAvgPool(x: GraphTensor, name = 'global_avg_pool'): GraphTensor {
    const axes = this.constInts(`${name}/axes`, [2], [1, 2]);
    const y = this.node(
      'Mean',
      [x.name, axes],
      { ...T, Tidx: attr.type(TfDtype.DT_INT32), keep_dims: attr.bool(false) },
      name,
    );
    return { name: y, shape: [x.shape[0]!, x.shape[3]!] };
  }

  /** Keras Flatten as TF 2 writes it: Reshape to [-1, H*W*C] (needs known H, W, C). */
  flatten(x: GraphTensor, name = 'flatten'): GraphTensor {
    const size = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const shape = this.constInts(`${name}/shape`, [2], [-1, size]);
    const y = this.node('Reshape', [x.name, shape], { ...T, Tshape: attr.type(TfDtype.DT_INT32) }, name);
    return { name: y, shape: [x.shape[0]!, size] };
  }

  /** BiasAdd of a random bias of `channels` values. */
  biasAdd(x: string, channels: number, name = 'bias_add'): string {
    const b = this.randomConst(`${name}/bias`, [channels], 0.1);
    return this.node('BiasAdd', [x, b], { ...T, ...NHWC }, name);
  }

  /** Keras Dense: MatMul with a Glorot-scaled random kernel, BiasAdd. */
  dense(x: GraphTensor, units: number, name = 'dense'): GraphTensor {
    const cin = x.shape[x.shape.length - 1]!;
    const w = this.randomConst(`${name}/kernel`, [cin, units], Math.sqrt(6 / (cin + units)));
    const mm = this.node(
      'MatMul',
      [x.name, w],
      { ...T, transpose_a: attr.bool(false), transpose_b: attr.bool(false) },
      `${name}/MatMul`,
    );
    return { name: this.biasAdd(mm, units, `${name}/BiasAdd`), shape: [x.shape[0]!, units] };
  }

  /** Write the graph as a SavedModel with one `serving_default` signature: input/output key → tensor. */
  write(dir: string, inputs: Record<string, GraphTensor>, outputs: Record<string, GraphTensor>): void {
    const entry = (t: GraphTensor): [string, number, number[]] => [
      t.name.includes(':') ? t.name : `${t.name}:0`,
      F,
      t.shape,
    ];
    const sig: SigSpec = {
      inputs: Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, entry(t)])),
      outputs: Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, entry(t)])),
    };
    writeSavedModel(dir, { nodes: this.nodes, signatures: { serving_default: sig } });
  }
}

/** Output H and W of a window op (TF's formulas: SAME = ceil(in / stride), VALID = ceil((in - eff + 1) / stride)). */
function spatial(shape: number[], k: number, stride: number, padding: TfPadding, dilation: number): [number, number] {
  const eff = (k - 1) * dilation + 1;
  const one = (n: number): number => {
    if (n < 0) return -1;
    return padding === 'SAME' ? Math.ceil(n / stride) : Math.ceil((n - eff + 1) / stride);
  };
  return [one(shape[1]!), one(shape[2]!)];
}
