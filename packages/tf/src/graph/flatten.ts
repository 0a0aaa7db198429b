import type { AttrValueMsg, FunctionDefMsg, NodeDefMsg, OpDefMsg } from '../proto/tf-schema.js';
import { type GraphNode, normalizeTensor } from './frozen-graph.js';

/** Op types that call a function named by their `f` attr. */
const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);

/** Ops whose semantics tfjs cannot reproduce through inlining (control flow with function bodies). */
const FUNCTIONAL_CONTROL_FLOW = new Set(['If', 'StatelessIf', 'While', 'StatelessWhile', 'Case', 'StatelessCase']);

/** A graph with every function call inlined. */
export interface FlatGraph {
  /** Nodes by name. */
  nodes: Map<string, GraphNode>;
  /** Maps a tensor name (e.g. a call node's output `StatefulPartitionedCall:0`) to the tensor that produces it. */
  resolve(tensor: string): string;
  /**
   * Nodes that could not be inlined or wired (e.g. an output of an op with no OpDef), with the reason.
   * They only matter when a signature reaches them (the save/restore functions often hit this).
   */
  broken: Map<string, string>;
}

/** Everything flattening needs to know about op signatures. */
export interface OpRegistry {
  /** OpDefs by op name (the MetaGraph's stripped op list). */
  ops: Map<string, OpDefMsg>;
  /** Library functions by name. */
  functions: Map<string, FunctionDefMsg>;
}

/** Fill attrs a writer stripped because they held the op's default value. */
export function withDefaultAttrs(node: NodeDefMsg, registry: OpRegistry): Record<string, AttrValueMsg> {
  const attrs: Record<string, AttrValueMsg> = { ...(node.attr ?? {}) };
  const def = registry.ops.get(node.op);
  for (const a of def?.attr ?? []) {
    if (attrs[a.name] === undefined && a.default_value !== undefined) attrs[a.name] = a.default_value;
  }
  return attrs;
}

function attrInt(attrs: Record<string, AttrValueMsg>, name: string): number | undefined {
  const v = attrs[name];
  return v?.i === undefined ? undefined : Number(v.i);
}

/** Flat output index of `outArg:idx` for a node (output args counted through `number_attr`/`type_list_attr`). */
function flatOutputIndex(
  op: string,
  attrs: Record<string, AttrValueMsg>,
  outArg: string,
  idx: number,
  registry: OpRegistry,
  where: string,
): number {
  const fn = registry.functions.get(op);
  const def = fn?.signature ?? registry.ops.get(op);
  if (def === undefined) {
    if (idx === 0 || outArg === 'output') return idx;
    throw new Error(`${where}: no OpDef for op ${op} to resolve output "${outArg}:${idx}"`);
  }
  let offset = 0;
  for (const arg of def.output_arg ?? []) {
    if (arg.name === outArg) return offset + idx;
    let count = 1;
    if (arg.number_attr) count = attrInt(attrs, arg.number_attr) ?? 1;
    else if (arg.type_list_attr) count = attrs[arg.type_list_attr]?.list?.type?.length ?? 0;
    offset += count;
  }
  throw new Error(`${where}: op ${op} has no output "${outArg}"`);
}

function calledFunction(node: NodeDefMsg, registry: OpRegistry): FunctionDefMsg | undefined {
  if (CALL_OPS.has(node.op)) {
    const name = node.attr?.f?.func?.name;
    const fn = name === undefined ? undefined : registry.functions.get(name);
    if (fn === undefined) throw new Error(`node "${node.name}" calls function "${name}" which is not in the library`);
    return fn;
  }
  return registry.functions.get(node.op);
}

/**
 * Inline every function call of `graphNodes` (recursively), giving one flat graph. Inlined body nodes are named
 * `<call node>/<body node>`; a call node's outputs become aliases of the function's return tensors, and the call
 * node itself becomes a `NoOp` depending on the function's control outputs and returns (so a control
 * dependency on the call still reaches everything it ran).
 */
export function flattenGraph(
  graphNodes: readonly NodeDefMsg[],
  registry: OpRegistry,
  restoreDefaults: boolean,
): FlatGraph {
  const nodes = new Map<string, GraphNode>();
  const alias = new Map<string, string>();
  const broken = new Map<string, string>();
  let brokenCount = 0;
  /** A placeholder node standing for something that failed to inline; reaching it makes a signature unservable. */
  const brokenTensor = (near: string, reason: string): string => {
    const name = `${near}/__unresolved_${brokenCount++}`;
    broken.set(name, reason);
    emit({ name, op: 'NoOp', inputs: [], controlInputs: [], attrs: {} });
    return `${name}:0`;
  };

  const emit = (node: GraphNode): void => {
    if (nodes.has(node.name)) throw new Error(`duplicate node name "${node.name}" after inlining`);
    nodes.set(node.name, node);
  };

  const inline = (
    call: { name: string; attrs: Record<string, AttrValueMsg> },
    fn: FunctionDefMsg,
    args: string[],
    depth: number,
  ): void => {
    const fname = fn.signature.name;
    if (depth > 64) throw new Error(`function "${fname}" nests more than 64 calls deep (recursive?)`);
    const inArgs = fn.signature.input_arg ?? [];
    if (inArgs.length !== args.length) {
      throw new Error(`call "${call.name}" passes ${args.length} inputs to "${fname}", which takes ${inArgs.length}`);
    }
    const argMap = new Map<string, string>();
    inArgs.forEach((a, i) => {
      if (a.number_attr || a.type_list_attr)
        throw new Error(`function "${fname}" has a list-valued argument "${a.name}"`);
      argMap.set(a.name, args[i]!);
    });
    const prefix = call.name;
    const body = fn.node_def ?? [];
    const bodyByName = new Map(body.map((n) => [n.name, n]));
    const bodyAttrs = new Map<string, Record<string, AttrValueMsg>>();
    for (const n of body) bodyAttrs.set(n.name, withDefaultAttrs(n, registry));
    const translate = (ref: string, where: string): string => {
      const parts = ref.split(':');
      if (parts.length === 1) {
        const a = argMap.get(ref);
        if (a === undefined) throw new Error(`${where}: "${ref}" is not an argument of "${fname}"`);
        return a;
      }
      const src = bodyByName.get(parts[0]!);
      if (src === undefined) return brokenTensor(prefix, `${where}: input "${ref}" names no node of "${fname}"`);
      const idx = parts.length === 3 ? Number(parts[2]) : 0;
      try {
        return `${prefix}/${src.name}:${flatOutputIndex(src.op, bodyAttrs.get(src.name)!, parts[1]!, idx, registry, where)}`;
      } catch (err) {
        return brokenTensor(prefix, (err as Error).message);
      }
    };
    for (const n of body) {
      const where = `function "${fname}" node "${n.name}"`;
      const attrs = bodyAttrs.get(n.name)!;
      for (const [k, v] of Object.entries(attrs)) {
        if (v.placeholder !== undefined) throw new Error(`${where}: attr "${k}" is a placeholder ($${v.placeholder})`);
      }
      const inputs: string[] = [];
      const controls: string[] = [];
      for (const ref of n.input ?? []) {
        if (ref.startsWith('^')) controls.push(`${prefix}/${ref.slice(1)}`);
        else inputs.push(translate(ref, where));
      }
      visit({ ...n, name: `${prefix}/${n.name}`, attr: attrs }, inputs, controls, depth + 1, attrs);
    }
    const outs = fn.signature.output_arg ?? [];
    const retNodes: string[] = [];
    outs.forEach((o, i) => {
      const ret = fn.ret?.[o.name];
      if (ret === undefined) throw new Error(`function "${fname}" does not return "${o.name}"`);
      const t = translate(ret, `function "${fname}" return "${o.name}"`);
      alias.set(`${call.name}:${i}`, t);
      retNodes.push(t.slice(0, t.lastIndexOf(':')));
    });
    const controlRets = Object.values(fn.control_ret ?? {}).map((n) => `${prefix}/${n}`);
    emit({ name: call.name, op: 'NoOp', inputs: [], controlInputs: [...controlRets, ...retNodes], attrs: {} });
  };

  const visit = (
    n: NodeDefMsg,
    inputs: string[],
    controls: string[],
    depth: number,
    attrs: Record<string, AttrValueMsg>,
  ): void => {
    if (FUNCTIONAL_CONTROL_FLOW.has(n.op)) {
      // Kept as is; freezing refuses signatures that reach it.
      emit({ name: n.name, op: n.op, inputs, controlInputs: controls, attrs });
      return;
    }
    let fn: FunctionDefMsg | undefined;
    try {
      fn = calledFunction(n, registry);
      if (fn !== undefined) inline({ name: n.name, attrs }, fn, inputs, depth);
    } catch (err) {
      if (nodes.has(n.name)) nodes.delete(n.name);
      broken.set(n.name, (err as Error).message);
      emit({ name: n.name, op: 'NoOp', inputs: [], controlInputs: [], attrs: {} });
      return;
    }
    if (fn !== undefined) return;
    emit({ name: n.name, op: n.op, inputs, controlInputs: controls, attrs });
  };

  for (const n of graphNodes) {
    const inputs: string[] = [];
    const controls: string[] = [];
    for (const ref of n.input ?? []) {
      if (ref.startsWith('^')) controls.push(ref.slice(1));
      else inputs.push(normalizeTensor(ref));
    }
    const attrs = restoreDefaults ? withDefaultAttrs(n, registry) : { ...(n.attr ?? {}) };
    visit(n, inputs, controls, 0, attrs);
  }

  // Resolve call-output aliases (chains arise from nested calls).
  const resolve = (t: string): string => {
    let cur = normalizeTensor(t);
    for (let i = 0; i < 1000; i++) {
      const next = alias.get(cur);
      if (next === undefined) return cur;
      cur = next;
    }
    throw new Error(`alias cycle at tensor "${t}"`);
  };
  for (const node of nodes.values()) node.inputs = node.inputs.map(resolve);
  return { nodes, resolve, broken };
}
