import type { Checkpoint } from '../checkpoint/bundle.js';
import type { AttrValueMsg, SignatureDefMsg } from '../proto/tf-schema.js';
import { baseDtype, dtypeName, TfDtype } from './dtypes.js';
import type { FlatGraph } from './flatten.js';
import { type FrozenGraph, type FrozenTensor, type GraphNode, normalizeTensor, splitTensor } from './frozen-graph.js';
import { type HostTensor, shapeDims, tensorFromProto } from './host-tensor.js';
import { VARIABLE_OPS } from './variables.js';

/** A signature that cannot be served correctly; `reason` names the op and node. */
export class UnservableSignature extends Error {
  /** Signature name. */
  readonly signature: string;
  /** Why it cannot be served. */
  readonly reason: string;

  constructor(signature: string, reason: string) {
    super(`Signature "${signature}" cannot be served: ${reason}`);
    this.name = 'UnservableSignature';
    this.signature = signature;
    this.reason = reason;
  }
}

const MUTATING =
  /^(Assign|AssignAdd|AssignSub|AssignVariableOp|AssignAddVariableOp|AssignSubVariableOp|(Resource)?Scatter\w*|(Resource)?(Sparse)?Apply\w*|(Resource)?StridedSliceAssign|(Resource)?CountUpTo|DestroyResourceOp|TensorArrayWrite\w*|InitializeTable\w*|LookupTableInsert\w*|LookupTableImport\w*|LookupTableRemove\w*)$/;
const FILE_IO = new Set([
  'SaveV2',
  'Save',
  'SaveSlices',
  'RestoreV2',
  'Restore',
  'RestoreSlice',
  'MergeV2Checkpoints',
  'WriteFile',
]);
const EXAMPLE_PARSING =
  /^(ParseExample\w*|ParseSingleExample|ParseSequenceExample\w*|ParseSingleSequenceExample|DecodeJSONExample)$/;
const FUNCTIONAL = new Set(['If', 'StatelessIf', 'While', 'StatelessWhile', 'Case', 'StatelessCase']);
const TABLES = /^(HashTable\w*|MutableHashTable\w*|MutableDenseHashTable\w*|LookupTable\w*|InitializeTable\w*)$/;

/** Why reaching `node` from a signature's outputs makes the signature unservable, or undefined. */
function refusalFor(node: GraphNode): string | undefined {
  const op = node.op;
  if (MUTATING.test(op)) return `it updates variables (op ${op}, node "${node.name}")`;
  if (FILE_IO.has(op)) return `it reads or writes files (op ${op}, node "${node.name}")`;
  if (EXAMPLE_PARSING.test(op)) {
    return `it parses serialized tf.Example protos (op ${op}, node "${node.name}"); tf.Example input is not supported`;
  }
  if (FUNCTIONAL.has(op))
    return `it uses functional control flow (op ${op}, node "${node.name}"), which is not supported`;
  if (TABLES.test(op)) return `it uses lookup tables (op ${op}, node "${node.name}"), which are not supported`;
  return undefined;
}

function attrType(attrs: Record<string, AttrValueMsg>, name: string): number | undefined {
  return attrs[name]?.type;
}

function constNode(name: string, value: HostTensor): GraphNode {
  return { name, op: 'Const', inputs: [], controlInputs: [], attrs: { dtype: { type: value.dtype } }, value };
}

/** Attributes without the writer's private `_`-prefixed ones (`_output_shapes`, `_class`, …). */
function publicAttrs(attrs: Record<string, AttrValueMsg>): Record<string, AttrValueMsg> {
  const out: Record<string, AttrValueMsg> = {};
  for (const [k, v] of Object.entries(attrs)) if (!k.startsWith('_')) out[k] = v;
  return out;
}

/** Reads variable values from the checkpoint, by variable node name. */
export interface VariableSource {
  /** Checkpoint keys by variable node name. */
  keys: Map<string, string>;
  /** The checkpoint (absent when the model has no variables/). */
  checkpoint: Checkpoint | undefined;
}

/**
 * Freeze one signature of a flattened graph: check nothing reachable from its outputs mutates state or parses
 * tf.Example, feed its inputs through Placeholders, replace variable reads with constants from the checkpoint,
 * and keep only the nodes its outputs need (data edges). Throws UnservableSignature with the reason.
 */
export function freezeSignature(
  name: string,
  sig: SignatureDefMsg,
  flat: FlatGraph,
  vars: VariableSource,
): FrozenGraph {
  const refuse = (reason: string): never => {
    throw new UnservableSignature(name, reason);
  };
  const fed = new Map<string, { key: string; dtype: number; shape: number[] | undefined }>();
  for (const [key, info] of Object.entries(sig.inputs ?? {})) {
    if (!info.name) refuse(`input "${key}" is a sparse or composite tensor`);
    const dtype = info.dtype ?? 0;
    if (baseDtype(dtype) === TfDtype.DT_RESOURCE || baseDtype(dtype) === TfDtype.DT_VARIANT) {
      refuse(`input "${key}" has dtype ${dtypeName(dtype)}`);
    }
    fed.set(flat.resolve(info.name!), { key, dtype, shape: shapeDims(info.tensor_shape) });
  }
  const outputs: FrozenTensor[] = [];
  for (const [key, info] of Object.entries(sig.outputs ?? {})) {
    if (!info.name) refuse(`output "${key}" is a sparse or composite tensor`);
    outputs.push({
      key,
      tensor: flat.resolve(info.name!),
      dtype: info.dtype ?? 0,
      shape: shapeDims(info.tensor_shape),
    });
  }
  if (outputs.length === 0) refuse('it has no outputs');

  const node = (n: string): GraphNode => {
    const found = flat.nodes.get(n);
    if (found === undefined) refuse(`it refers to node "${n}", which the graph does not have`);
    return found!;
  };

  // 1. Everything the outputs depend on, through data and control edges, must be side-effect free.
  const seen = new Set<string>();
  const stack: string[] = [];
  for (const o of outputs) if (!fed.has(o.tensor)) stack.push(splitTensor(o.tensor)[0]);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    const g = node(n);
    const bad = flat.broken.get(n);
    if (bad !== undefined) refuse(`part of its graph could not be inlined: ${bad}`);
    const why = refusalFor(g);
    if (why !== undefined) refuse(why);
    for (const t of g.inputs) if (!fed.has(t)) stack.push(splitTensor(t)[0]);
    for (const c of g.controlInputs) stack.push(c);
  }

  // 2. Rebuild the data-edge subgraph, in topological order, with variables frozen.
  const out = new Map<string, GraphNode>();
  const order: GraphNode[] = [];
  const feedNames = new Map<string, string>();
  const placeholderNames = new Set<string>();
  const add = (g: GraphNode): void => {
    out.set(g.name, g);
    order.push(g);
  };

  const variableValue = (varNode: GraphNode, consumer: string): HostTensor => {
    const key = vars.keys.get(varNode.name);
    if (key === undefined || vars.checkpoint === undefined) {
      return refuse(`variable "${varNode.name}" (read by "${consumer}") has no value in the checkpoint`);
    }
    // Read errors (corrupt or truncated checkpoint) are not a property of the signature: they propagate.
    const value = vars.checkpoint.read(key);
    const want = attrType(varNode.attrs, 'dtype');
    if (want !== undefined && baseDtype(want) !== value.dtype) {
      refuse(
        `variable "${varNode.name}" is ${dtypeName(want)} but checkpoint key "${key}" holds ${dtypeName(value.dtype)}`,
      );
    }
    return value;
  };

  /** The variable node behind a resource tensor (through Identity), or undefined. */
  const handleSource = (t: string): GraphNode | undefined => {
    let cur = node(splitTensor(t)[0]);
    for (let i = 0; i < 100 && (cur.op === 'Identity' || cur.op === 'IdentityN'); i++) {
      const next = cur.inputs[cur.op === 'IdentityN' ? splitTensor(t)[1] : 0];
      if (next === undefined) return undefined;
      t = next;
      cur = node(splitTensor(next)[0]);
    }
    return VARIABLE_OPS.has(cur.op) ? cur : undefined;
  };

  const visiting = new Set<string>();
  const visitTensor = (t: string, consumer: string): string => {
    const f = fed.get(t);
    if (f !== undefined) return feedPlaceholder(t, f);
    visitNode(splitTensor(t)[0], consumer);
    return t;
  };

  const feedPlaceholder = (t: string, f: { key: string; dtype: number; shape: number[] | undefined }): string => {
    const existing = feedNames.get(t);
    if (existing !== undefined) return `${existing}:0`;
    const [n, idx] = splitTensor(t);
    let pname = idx === 0 ? n : `${n}_${idx}`;
    while (placeholderNames.has(pname) || out.has(pname) || (flat.nodes.has(pname) && pname !== n))
      pname = `${pname}_feed`;
    placeholderNames.add(pname);
    feedNames.set(t, pname);
    const attrs: Record<string, AttrValueMsg> = { dtype: { type: baseDtype(f.dtype) } };
    if (f.shape !== undefined) attrs.shape = { shape: { dim: f.shape.map((d) => ({ size: String(d) })) } };
    add({ name: pname, op: 'Placeholder', inputs: [], controlInputs: [], attrs });
    return `${pname}:0`;
  };

  const visitNode = (n: string, consumer: string): void => {
    if (placeholderNames.has(n)) refuse(`node "${n}" is needed both as an input and as a computed value`);
    if (out.has(n)) return;
    if (visiting.has(n)) refuse(`the graph has a cycle through node "${n}" (TF1 loops are not supported)`);
    const g = node(n);
    const attrs = publicAttrs(g.attrs);
    if (g.op === 'Const') {
      const v = g.attrs.value?.tensor;
      if (v === undefined) refuse(`constant "${n}" has no value`);
      let value: HostTensor | undefined;
      try {
        value = tensorFromProto(v!);
      } catch (err) {
        refuse(`constant "${n}": ${(err as Error).message}`);
      }
      add(constNode(n, value!));
      return;
    }
    if (g.op === 'ReadVariableOp') {
      const src = handleSource(g.inputs[0] ?? '');
      if (src === undefined) refuse(`"${n}" reads a resource that is not a variable`);
      add(constNode(n, variableValue(src!, n)));
      return;
    }
    if (g.op === 'VariableV2' || g.op === 'Variable') {
      add(constNode(n, variableValue(g, consumer)));
      return;
    }
    if (g.op === 'VarHandleOp') refuse(`op "${consumer}" uses variable "${n}" as a resource, which is not supported`);
    if (g.op === 'Placeholder') refuse(`it needs placeholder "${n}", which is not one of its inputs`);
    visiting.add(n);
    if (g.op === 'ResourceGather') {
      // ResourceGather(var, indices) == GatherV2(value(var), indices, axis=0) for batch_dims 0.
      const src = handleSource(g.inputs[0] ?? '');
      if (src === undefined) refuse(`"${n}" gathers from a resource that is not a variable`);
      if (Number(g.attrs.batch_dims?.i ?? 0) !== 0) refuse(`"${n}" is a ResourceGather with batch_dims`);
      const valueName = `${n}/frozen_value`;
      const axisName = `${n}/frozen_axis`;
      add(constNode(valueName, variableValue(src!, n)));
      add(constNode(axisName, { dtype: TfDtype.DT_INT32, shape: [], bytes: new Uint8Array(4) }));
      const indices = visitTensor(g.inputs[1] ?? '', n);
      add({
        name: n,
        op: 'GatherV2',
        inputs: [`${valueName}:0`, indices, `${axisName}:0`],
        controlInputs: [],
        attrs: {
          Tparams: { type: attrType(g.attrs, 'dtype') ?? TfDtype.DT_FLOAT },
          Tindices: g.attrs.Tindices ?? { type: TfDtype.DT_INT32 },
          Taxis: { type: TfDtype.DT_INT32 },
          batch_dims: { i: '0' },
        },
      });
      visiting.delete(n);
      return;
    }
    if (g.op === 'VariableShape') {
      const src = handleSource(g.inputs[0] ?? '');
      if (src === undefined) refuse(`"${n}" takes the shape of a resource that is not a variable`);
      const shape = variableValue(src!, n).shape;
      const is64 = attrType(g.attrs, 'out_type') === TfDtype.DT_INT64;
      const bytes = new Uint8Array(shape.length * (is64 ? 8 : 4));
      const dv = new DataView(bytes.buffer);
      shape.forEach((d, i) => {
        is64 ? dv.setBigInt64(i * 8, BigInt(d), true) : dv.setInt32(i * 4, d, true);
      });
      add(constNode(n, { dtype: is64 ? TfDtype.DT_INT64 : TfDtype.DT_INT32, shape: [shape.length], bytes }));
      visiting.delete(n);
      return;
    }
    const inputs = g.inputs.map((t) => visitTensor(t, n));
    visiting.delete(n);
    add({ name: n, op: g.op, inputs, controlInputs: [], attrs });
  };

  const frozenOutputs = outputs.map((o) => ({ ...o, tensor: visitTensor(o.tensor, `output ${o.key}`) }));
  const inputs: FrozenTensor[] = [];
  for (const [t, f] of fed) {
    const pname = feedNames.get(t) ?? splitTensor(feedPlaceholder(t, f))[0];
    inputs.push({ key: f.key, tensor: normalizeTensor(pname), dtype: f.dtype, shape: f.shape });
  }
  return { signature: name, methodName: sig.method_name ?? '', nodes: order, inputs, outputs: frozenOutputs };
}
