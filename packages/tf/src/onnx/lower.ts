import type { Dim } from '@servekit/onnx';
import { baseDtype, dtypeName, onnxElemType } from '../graph/dtypes.js';
import { type FrozenGraph, type FrozenTensor, normalizeTensor } from '../graph/frozen-graph.js';
import { constFromHost } from './const.js';
import { LowerContext, type Value } from './context.js';
import { UnsupportedTfOps } from './errors.js';
import { type IrValueInfo, LOWERING_OPSET, OnnxIr } from './ir.js';
import { OP_TABLE } from './ops/index.js';

/** Options of `lowerFrozenGraph`. */
export interface LowerOptions {
  /** Name of the ONNX graph (default: the signature name). */
  graphName?: string;
  /**
   * Declare the graph inputs without shapes, so any shape the graph itself accepts runs, as in TensorFlow, which does
   * not enforce signature shapes (fixtures README item 10). Default false: inputs carry the signature's shapes.
   */
  relaxInputShapes?: boolean;
}

/** A graph input or output of a lowered graph. */
export interface LoweredTensor {
  /** ONNX tensor name: the signature key. */
  name: string;
  /** TF dtype (enum value) from the signature. */
  dtype: number;
  /** Signature dims (symbolic names for unknown ones); undefined when the rank is unknown (or declared scalar). */
  shape: Dim[] | undefined;
}

/** A frozen graph lowered to ONNX. */
export interface LoweredGraph {
  /** Serialized ONNX ModelProto (ai.onnx opset `LOWERING_OPSET`), for `ort.InferenceSession.create(bytes)`. */
  bytes: Uint8Array;
  /** Graph inputs, one per signature input, named by signature key. */
  inputs: LoweredTensor[];
  /** Graph outputs, one per signature output, named by signature key. */
  outputs: LoweredTensor[];
  /** The ai.onnx opset the model imports. */
  opset: number;
}

/** Op types in `graph` that have no ONNX lowering (each once, in graph order); Placeholder and Const always lower. */
export function unmappedOps(graph: FrozenGraph): string[] {
  const out = new Set<string>();
  for (const n of graph.nodes) if (!mapped(n.op)) out.add(n.op);
  return [...out];
}

const mapped = (op: string): boolean => op === 'Placeholder' || op === 'Const' || Object.hasOwn(OP_TABLE, op);

/**
 * ONNX dims of a signature tensor. A declared scalar is treated as unknown rank: TF1/tfjs exports often record `[]`
 * (or nothing) for inputs that take any shape (fixtures README item 10).
 */
function onnxShape(t: FrozenTensor): Dim[] | undefined {
  if (t.shape === undefined || t.shape.length === 0) return undefined;
  return t.shape.map((d, i) => (d < 0 ? `${t.key}_dim${i}` : d));
}

/**
 * Lower a frozen TF graph to an ONNX model whose inputs and outputs are named by the signature keys. Throws
 * UnsupportedTfOps naming every op type without a lowering (with its first node), or the first node whose
 * configuration cannot be lowered (e.g. a non-constant permutation).
 */
export function lowerFrozenGraph(graph: FrozenGraph, options: LowerOptions = {}): LoweredGraph {
  const missing = new Map<string, string>();
  for (const n of graph.nodes) if (!mapped(n.op) && !missing.has(n.op)) missing.set(n.op, n.name);
  if (missing.size > 0) throw new UnsupportedTfOps([...missing].map(([op, node]) => ({ op, node })));
  for (const t of [...graph.inputs, ...graph.outputs]) {
    if (onnxElemType(t.dtype) === undefined || baseDtype(t.dtype) === 7) {
      const node = t.tensor.split(':')[0]!;
      throw new UnsupportedTfOps([
        {
          op: 'Placeholder',
          node,
          reason: `tensor "${t.key}" has dtype ${dtypeName(t.dtype)}, which is not supported`,
        },
      ]);
    }
  }

  const uses = new Map<string, number>();
  const use = (t: string): void => {
    const k = normalizeTensor(t);
    uses.set(k, (uses.get(k) ?? 0) + 1);
  };
  for (const n of graph.nodes) for (const i of n.inputs) use(i);
  for (const o of graph.outputs) use(o.tensor);

  const ir = new OnnxIr();
  const cx = new LowerContext(ir, uses);
  const values = new Map<string, Value>();
  const inputsByNode = new Map(graph.inputs.map((t) => [normalizeTensor(t.tensor).split(':')[0]!, t]));
  const inputs: IrValueInfo[] = [];

  for (const node of graph.nodes) {
    cx.node = node;
    let outs: Value[];
    if (node.op === 'Placeholder') {
      const spec = inputsByNode.get(node.name);
      if (spec === undefined) throw cx.refusal('it is not fed by a signature input');
      const shape = onnxShape(spec);
      inputs.push({
        name: spec.key,
        type: onnxElemType(spec.dtype)!,
        shape: options.relaxInputShapes ? undefined : shape,
      });
      const known = shape && (options.relaxInputShapes ? spec.shape!.map(() => -1) : spec.shape!.slice());
      outs = [{ dtype: baseDtype(spec.dtype), shape: known, name: spec.key }];
    } else if (node.op === 'Const') {
      if (node.value === undefined) throw cx.refusal('it has no value');
      if (node.value.bytes === undefined) throw cx.refusal(`its dtype ${dtypeName(node.value.dtype)} is not supported`);
      outs = [cx.constValue(constFromHost(node.value))];
    } else {
      const args = node.inputs.map((t) => {
        const v = values.get(normalizeTensor(t));
        if (v === undefined) throw new Error(`lowering: input "${t}" of node "${node.name}" is not computed before it`);
        return v;
      });
      outs = OP_TABLE[node.op]!(cx, node, args);
    }
    outs.forEach((v, i) => {
      values.set(`${node.name}:${i}`, v);
    });
  }

  const outputs: IrValueInfo[] = graph.outputs.map((o) => {
    const v = values.get(normalizeTensor(o.tensor));
    if (v === undefined) throw new Error(`lowering: output "${o.key}" (${o.tensor}) is not computed by the graph`);
    const want = baseDtype(o.dtype);
    ir.add('Identity', [cx.cast(cx.ref(v), v.dtype, want)], {}, [o.key]);
    return { name: o.key, type: onnxElemType(want)!, shape: onnxShape(o) };
  });
  const bytes = ir.build(inputs, outputs, options.graphName ?? graph.signature);
  const info = (t: FrozenTensor): LoweredTensor => ({ name: t.key, dtype: t.dtype, shape: onnxShape(t) });
  return {
    bytes,
    inputs: graph.inputs.map(info),
    outputs: graph.outputs.map(info),
    opset: LOWERING_OPSET,
  };
}
