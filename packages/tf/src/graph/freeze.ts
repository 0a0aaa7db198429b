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

/** A signature input: its key, dtype and declared shape (undefined: unknown rank). */
interface FedTensor {
  key: string;
  dtype: number;
  shape: number[] | undefined;
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
  return new SignatureFreezer(name, sig, flat, vars).freeze();
}

/** The state of freezing one signature: its fed tensors and outputs, and the frozen nodes built so far. */
class SignatureFreezer {
  /** Signature inputs by the (resolved) graph tensor they feed. */
  private readonly fed = new Map<string, FedTensor>();
  /** Signature outputs, tensors resolved in the flat graph. */
  private readonly outputs: FrozenTensor[] = [];
  /** Frozen nodes by name. */
  private readonly frozen = new Map<string, GraphNode>();
  /** Frozen nodes in topological order. */
  private readonly order: GraphNode[] = [];
  /** Placeholder node name by the fed tensor it stands for. */
  private readonly feedNames = new Map<string, string>();
  /** Names of the Placeholders made for fed tensors. */
  private readonly placeholderNames = new Set<string>();
  /** Nodes on the current path of the depth-first rebuild (to detect cycles). */
  private readonly visiting = new Set<string>();

  constructor(
    private readonly name: string,
    private readonly sig: SignatureDefMsg,
    private readonly flat: FlatGraph,
    private readonly vars: VariableSource,
  ) {}

  /** The frozen graph of the signature; throws UnservableSignature with the reason. */
  freeze(): FrozenGraph {
    this.collectInputs();
    this.collectOutputs();
    this.checkSideEffectFree();
    const outputs = this.outputs.map((o) => ({ ...o, tensor: this.frozenTensor(o.tensor, `output ${o.key}`) }));
    return {
      signature: this.name,
      methodName: this.sig.method_name ?? '',
      nodes: this.order,
      inputs: this.frozenInputs(),
      outputs,
    };
  }

  private refuse(reason: string): never {
    throw new UnservableSignature(this.name, reason);
  }

  /** Record the signature's inputs as fed tensors (refusing sparse/composite, resource and variant inputs). */
  private collectInputs(): void {
    for (const [key, info] of Object.entries(this.sig.inputs ?? {})) {
      if (!info.name) this.refuse(`input "${key}" is a sparse or composite tensor`);
      const dtype = info.dtype ?? 0;
      if (baseDtype(dtype) === TfDtype.DT_RESOURCE || baseDtype(dtype) === TfDtype.DT_VARIANT) {
        this.refuse(`input "${key}" has dtype ${dtypeName(dtype)}`);
      }
      this.fed.set(this.flat.resolve(info.name), { key, dtype, shape: shapeDims(info.tensor_shape) });
    }
  }

  /** Record the signature's outputs (refusing sparse/composite ones, and a signature without outputs). */
  private collectOutputs(): void {
    for (const [key, info] of Object.entries(this.sig.outputs ?? {})) {
      if (!info.name) this.refuse(`output "${key}" is a sparse or composite tensor`);
      this.outputs.push({
        key,
        tensor: this.flat.resolve(info.name),
        dtype: info.dtype ?? 0,
        shape: shapeDims(info.tensor_shape),
      });
    }
    if (this.outputs.length === 0) this.refuse('it has no outputs');
  }

  /** The flat graph's node `n`; refuses when the graph has none. */
  private node(n: string): GraphNode {
    const found = this.flat.nodes.get(n);
    if (found === undefined) this.refuse(`it refers to node "${n}", which the graph does not have`);
    return found;
  }

  /** Refuse when anything the outputs depend on, through data and control edges, has side effects. */
  private checkSideEffectFree(): void {
    const seen = new Set<string>();
    const stack: string[] = [];
    for (const o of this.outputs) if (!this.fed.has(o.tensor)) stack.push(splitTensor(o.tensor)[0]);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      const g = this.node(n);
      const bad = this.flat.broken.get(n);
      if (bad !== undefined) this.refuse(`part of its graph could not be inlined: ${bad}`);
      const why = refusalFor(g);
      if (why !== undefined) this.refuse(why);
      for (const t of g.inputs) if (!this.fed.has(t)) stack.push(splitTensor(t)[0]);
      for (const c of g.controlInputs) stack.push(c);
    }
  }

  /** Append a node to the frozen graph (after everything it reads). */
  private add(g: GraphNode): void {
    this.frozen.set(g.name, g);
    this.order.push(g);
  }

  /** The checkpoint value of variable node `varNode` (read by `consumer`), checked against its dtype. */
  private variableValue(varNode: GraphNode, consumer: string): HostTensor {
    const key = this.vars.keys.get(varNode.name);
    if (key === undefined || this.vars.checkpoint === undefined) {
      return this.refuse(`variable "${varNode.name}" (read by "${consumer}") has no value in the checkpoint`);
    }
    // Read errors (corrupt or truncated checkpoint) are not a property of the signature: they propagate.
    const value = this.vars.checkpoint.read(key);
    const want = attrType(varNode.attrs, 'dtype');
    if (want !== undefined && baseDtype(want) !== value.dtype) {
      this.refuse(
        `variable "${varNode.name}" is ${dtypeName(want)} but checkpoint key "${key}" holds ${dtypeName(value.dtype)}`,
      );
    }
    return value;
  }

  /** The variable node behind a resource tensor (through Identity), or undefined. */
  private handleSource(t: string): GraphNode | undefined {
    let cur = this.node(splitTensor(t)[0]);
    for (let i = 0; i < 100 && (cur.op === 'Identity' || cur.op === 'IdentityN'); i++) {
      const next = cur.inputs[cur.op === 'IdentityN' ? splitTensor(t)[1] : 0];
      if (next === undefined) return undefined;
      t = next;
      cur = this.node(splitTensor(next)[0]);
    }
    return VARIABLE_OPS.has(cur.op) ? cur : undefined;
  }

  /** The variable node resource-reading node `g` reads through its first input (`what` it does, for the refusal). */
  private variableBehind(g: GraphNode, what: string): GraphNode {
    const src = this.handleSource(g.inputs[0] ?? '');
    if (src === undefined) this.refuse(`"${g.name}" ${what} a resource that is not a variable`);
    return src;
  }

  /** The frozen-graph name of tensor `t` (read by `consumer`): its Placeholder when fed, else `t`, frozen. */
  private frozenTensor(t: string, consumer: string): string {
    const f = this.fed.get(t);
    if (f !== undefined) return this.feedPlaceholder(t, f);
    this.freezeNode(splitTensor(t)[0], consumer);
    return t;
  }

  /** The Placeholder tensor standing for fed tensor `t`, made on first use under a name no node has. */
  private feedPlaceholder(t: string, f: FedTensor): string {
    const existing = this.feedNames.get(t);
    if (existing !== undefined) return `${existing}:0`;
    const [n, idx] = splitTensor(t);
    let pname = idx === 0 ? n : `${n}_${idx}`;
    while (this.placeholderNames.has(pname) || this.frozen.has(pname) || (this.flat.nodes.has(pname) && pname !== n))
      pname = `${pname}_feed`;
    this.placeholderNames.add(pname);
    this.feedNames.set(t, pname);
    const attrs: Record<string, AttrValueMsg> = { dtype: { type: baseDtype(f.dtype) } };
    if (f.shape !== undefined) attrs.shape = { shape: { dim: f.shape.map((d) => ({ size: String(d) })) } };
    this.add({ name: pname, op: 'Placeholder', inputs: [], controlInputs: [], attrs });
    return `${pname}:0`;
  }

  /** Freeze node `n` (needed by `consumer`) after its data inputs: constants and variable reads become Consts. */
  private freezeNode(n: string, consumer: string): void {
    if (this.placeholderNames.has(n)) this.refuse(`node "${n}" is needed both as an input and as a computed value`);
    if (this.frozen.has(n)) return;
    if (this.visiting.has(n)) this.refuse(`the graph has a cycle through node "${n}" (TF1 loops are not supported)`);
    const g = this.node(n);
    if (g.op === 'Const') {
      this.add(constNode(n, this.constValue(g)));
      return;
    }
    if (g.op === 'ReadVariableOp') {
      this.add(constNode(n, this.variableValue(this.variableBehind(g, 'reads'), n)));
      return;
    }
    if (g.op === 'VariableV2' || g.op === 'Variable') {
      this.add(constNode(n, this.variableValue(g, consumer)));
      return;
    }
    if (g.op === 'VarHandleOp') {
      this.refuse(`op "${consumer}" uses variable "${n}" as a resource, which is not supported`);
    }
    if (g.op === 'Placeholder') this.refuse(`it needs placeholder "${n}", which is not one of its inputs`);
    this.visiting.add(n);
    if (g.op === 'ResourceGather') this.freezeResourceGather(g);
    else if (g.op === 'VariableShape') this.freezeVariableShape(g);
    else {
      const inputs = g.inputs.map((t) => this.frozenTensor(t, n));
      this.add({ name: n, op: g.op, inputs, controlInputs: [], attrs: publicAttrs(g.attrs) });
    }
    this.visiting.delete(n);
  }

  /** The value of Const node `g`. */
  private constValue(g: GraphNode): HostTensor {
    const v = g.attrs.value?.tensor;
    if (v === undefined) this.refuse(`constant "${g.name}" has no value`);
    try {
      return tensorFromProto(v);
    } catch (err) {
      return this.refuse(`constant "${g.name}": ${(err as Error).message}`);
    }
  }

  /** ResourceGather(var, indices) as GatherV2(value(var), indices, axis=0) (batch_dims 0 only). */
  private freezeResourceGather(g: GraphNode): void {
    const n = g.name;
    const src = this.variableBehind(g, 'gathers from');
    if (Number(g.attrs.batch_dims?.i ?? 0) !== 0) this.refuse(`"${n}" is a ResourceGather with batch_dims`);
    const valueName = `${n}/frozen_value`;
    const axisName = `${n}/frozen_axis`;
    this.add(constNode(valueName, this.variableValue(src, n)));
    this.add(constNode(axisName, { dtype: TfDtype.DT_INT32, shape: [], bytes: new Uint8Array(4) }));
    const indices = this.frozenTensor(g.inputs[1] ?? '', n);
    this.add({
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
  }

  /** VariableShape(var) as a constant: the shape of the variable's checkpoint value. */
  private freezeVariableShape(g: GraphNode): void {
    const shape = this.variableValue(this.variableBehind(g, 'takes the shape of'), g.name).shape;
    const is64 = attrType(g.attrs, 'out_type') === TfDtype.DT_INT64;
    const bytes = new Uint8Array(shape.length * (is64 ? 8 : 4));
    const dv = new DataView(bytes.buffer);
    shape.forEach((d, i) => {
      is64 ? dv.setBigInt64(i * 8, BigInt(d), true) : dv.setInt32(i * 4, d, true);
    });
    this.add(constNode(g.name, { dtype: is64 ? TfDtype.DT_INT64 : TfDtype.DT_INT32, shape: [shape.length], bytes }));
  }

  /** The frozen graph's inputs: one Placeholder per fed tensor (made now for inputs the outputs do not need). */
  private frozenInputs(): FrozenTensor[] {
    const inputs: FrozenTensor[] = [];
    for (const [t, f] of this.fed) {
      const pname = this.feedNames.get(t) ?? splitTensor(this.feedPlaceholder(t, f))[0];
      inputs.push({ key: f.key, tensor: normalizeTensor(pname), dtype: f.dtype, shape: f.shape });
    }
    return inputs;
  }
}
