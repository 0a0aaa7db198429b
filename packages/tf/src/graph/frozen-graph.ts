import type { AttrValueMsg } from '../proto/tf-schema.js';
import type { HostTensor } from './host-tensor.js';

/** One node of a flat (function-free) TensorFlow graph. */
export interface GraphNode {
  /** Unique node name. */
  name: string;
  /** TF op type, e.g. `MatMul`. */
  op: string;
  /** Data inputs as tensor names `node:index`. */
  inputs: string[];
  /** Control dependencies (node names, no `^`). */
  controlInputs: string[];
  /** Attributes (TF AttrValue messages). For `Const` nodes the value lives in `value` instead of `attrs.value`. */
  attrs: Record<string, AttrValueMsg>;
  /** The constant's value, for `Const` nodes. */
  value?: HostTensor;
}

/** A signature input or output of a frozen graph. */
export interface FrozenTensor {
  /** Signature key (the name clients use), e.g. `x` or `output_0`. */
  key: string;
  /** Graph tensor `node:index` (inputs: always a `Placeholder` node, index 0). */
  tensor: string;
  /** TF dtype (enum value) from the SignatureDef. */
  dtype: number;
  /** Shape from the SignatureDef (-1 unknown dims), or undefined when the rank is unknown. */
  shape: number[] | undefined;
}

/**
 * A self-contained inference graph for one signature: variables replaced by constants, function calls
 * inlined, pruned to the signature outputs, nodes in topological order. Engines (tfjs, ONNX lowering)
 * consume this.
 */
export interface FrozenGraph {
  /** Signature name, e.g. `serving_default`. */
  signature: string;
  /** SignatureDef method name, e.g. `tensorflow/serving/predict`. */
  methodName: string;
  /** Nodes in topological order (inputs before consumers). Only data edges remain. */
  nodes: GraphNode[];
  /** Signature inputs, each fed through its own Placeholder. */
  inputs: FrozenTensor[];
  /** Signature outputs. */
  outputs: FrozenTensor[];
}

/** `node:index` form of a tensor reference (`x` → `x:0`). */
export function normalizeTensor(name: string): string {
  const i = name.lastIndexOf(':');
  if (i > 0 && /^\d+$/.test(name.slice(i + 1))) return name;
  return `${name}:0`;
}

/** Node name and output index of a tensor reference. */
export function splitTensor(name: string): [string, number] {
  const t = normalizeTensor(name);
  const i = t.lastIndexOf(':');
  return [t.slice(0, i), Number(t.slice(i + 1))];
}
