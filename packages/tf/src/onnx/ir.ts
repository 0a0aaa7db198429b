import { type Attr, type Dim, GraphBuilder, type OnnxElemType } from '@servekit/onnx';
import { requireOnnxElemType } from '../graph/dtypes.js';
import { type ConstData, rawBytes } from './const.js';

/** One ONNX node of the graph being lowered (mutable until `build`, so later ops can fold into it). */
export interface IrNode {
  /** ONNX op type. */
  op: string;
  /** Input tensor names (`''` for an omitted optional input). */
  inputs: string[];
  /** Output tensor names. */
  outputs: string[];
  /** Attributes. */
  attrs: Record<string, Attr>;
}

/** A graph input or output of the built model. */
export interface IrValueInfo {
  /** Tensor name. */
  name: string;
  /** ONNX element type. */
  type: OnnxElemType;
  /** Dims (symbolic names for dynamic ones), or undefined for unknown rank. */
  shape: Dim[] | undefined;
}

/** The ONNX opset every lowered graph imports (ai.onnx). */
export const LOWERING_OPSET = 18;

/**
 * The ONNX graph under construction: nodes and initializers kept as plain objects so folding passes can rewrite them,
 * then written once through `GraphBuilder` with dead nodes removed.
 */
export class OnnxIr {
  /** Nodes in topological order. */
  readonly nodes: IrNode[] = [];
  /** Initializers by name. */
  readonly inits = new Map<string, ConstData>();
  private counter = 0;
  private readonly small = new Map<string, string>();

  /** A fresh tensor name. */
  fresh(prefix: string): string {
    this.counter += 1;
    return `_/${prefix}_${this.counter}`;
  }

  /** Append a node; `outputs` is a count (fresh names) or explicit names. */
  add(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1): IrNode {
    const outs =
      typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(op.toLowerCase())) : outputs;
    const node: IrNode = { op, inputs, outputs: outs, attrs };
    this.nodes.push(node);
    return node;
  }

  /** Add an initializer; small ones (≤ 16 elements) with equal contents are shared. */
  init(c: ConstData, prefix = 'const'): string {
    if (c.data.length <= 16) {
      const key = `${c.dtype}|${c.shape.join(',')}|${Array.from(c.data as ArrayLike<number | bigint>).join(',')}`;
      const found = this.small.get(key);
      if (found !== undefined) return found;
      const name = this.fresh(prefix);
      this.inits.set(name, c);
      this.small.set(key, name);
      return name;
    }
    const name = this.fresh(prefix);
    this.inits.set(name, c);
    return name;
  }

  /** Serialize as a ModelProto, keeping only what the outputs depend on. */
  build(inputs: IrValueInfo[], outputs: IrValueInfo[], graphName: string): Uint8Array {
    const needed = new Set(outputs.map((o) => o.name));
    const kept: IrNode[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (!n.outputs.some((o) => needed.has(o))) continue;
      kept.push(n);
      for (const x of n.inputs) if (x !== '') needed.add(x);
    }
    kept.reverse();
    const g = new GraphBuilder(graphName).opset('', LOWERING_OPSET);
    for (const i of inputs) g.input(i.name, i.type, i.shape);
    for (const [name, c] of this.inits) {
      if (needed.has(name)) g.constant(name, { type: requireOnnxElemType(c.dtype), dims: c.shape, raw: rawBytes(c) });
    }
    for (const n of kept) g.node(n.op, n.inputs, n.outputs, n.attrs);
    for (const o of outputs) g.output(o.name, o.type, o.shape);
    return g.toBytes();
  }
}
