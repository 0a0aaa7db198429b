import type { Checkpoint } from '../checkpoint/bundle.js';
import { OBJECT_GRAPH_KEY } from '../checkpoint/bundle.js';
import type { TrackableObjectGraphMsg } from '../proto/tf-schema.js';
import { decodeTrackableObjectGraph, type MetaGraphDefMsg, type SavedObjectGraphMsg } from '../proto/tf-schema.js';

/** Ops that hold a variable (their node, or a read of it, becomes a constant when freezing). */
export const VARIABLE_OPS = new Set(['VariableV2', 'Variable', 'VarHandleOp']);

const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);

/** SavedObjectGraph node id → checkpoint key of its VARIABLE_VALUE, by walking both object graphs by child name. */
function savedVariableKeys(saved: SavedObjectGraphMsg, trackable: TrackableObjectGraphMsg): Map<number, string> {
  const out = new Map<number, string>();
  const sNodes = saved.nodes ?? [];
  const tNodes = trackable.nodes ?? [];
  if (sNodes.length === 0 || tNodes.length === 0) return out;
  const seen = new Set<number>();
  const queue: Array<[number, number]> = [[0, 0]];
  while (queue.length > 0) {
    const [s, t] = queue.shift()!;
    if (seen.has(s)) continue;
    seen.add(s);
    const sn = sNodes[s];
    const tn = tNodes[t];
    if (sn === undefined || tn === undefined) continue;
    if (sn.variable !== undefined) {
      const attr = (tn.attributes ?? []).find((a) => a.name === 'VARIABLE_VALUE');
      if (attr?.checkpoint_key) out.set(s, attr.checkpoint_key);
    }
    const tChildren = new Map((tn.children ?? []).map((c) => [c.local_name ?? '', c.node_id ?? 0]));
    for (const c of sn.children ?? []) {
      const tc = tChildren.get(c.local_name ?? '');
      if (tc !== undefined) queue.push([c.node_id ?? 0, tc]);
    }
  }
  return out;
}

/**
 * Checkpoint key of each variable node of the MetaGraph's main graph, by node name.
 * TF2: the concrete functions' `bound_inputs` tie the variable handles a call passes to SavedObjectGraph nodes,
 * whose checkpoint keys (`…/.ATTRIBUTES/VARIABLE_VALUE`) come from the checkpoint's TrackableObjectGraph.
 * TF1 (and unbound handles): the node name, else its `shared_name`, when the checkpoint has that key.
 */
export function variableCheckpointKeys(meta: MetaGraphDefMsg, checkpoint: Checkpoint | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  if (checkpoint === undefined) return keys;
  const nodes = meta.graph_def?.node ?? [];
  const saved = meta.object_graph_def;
  if (saved !== undefined && checkpoint.has(OBJECT_GRAPH_KEY)) {
    const raw = checkpoint.read(OBJECT_GRAPH_KEY).strings?.[0];
    if (raw !== undefined) {
      const byNode = savedVariableKeys(saved, decodeTrackableObjectGraph(raw));
      for (const n of nodes) {
        if (!CALL_OPS.has(n.op)) continue;
        const fname = n.attr?.f?.func?.name ?? '';
        const bound = saved.concrete_functions?.[fname]?.bound_inputs ?? [];
        const inputs = (n.input ?? []).filter((i) => !i.startsWith('^'));
        bound.forEach((id, j) => {
          const handle = inputs[inputs.length - bound.length + j];
          const key = byNode.get(id);
          if (handle !== undefined && key !== undefined) keys.set(handle.split(':')[0]!, key);
        });
      }
    }
  }
  for (const n of nodes) {
    if (!VARIABLE_OPS.has(n.op) || keys.has(n.name)) continue;
    const shared = n.attr?.shared_name?.s;
    const sharedName = shared === undefined ? '' : Buffer.from(shared).toString('utf8');
    if (checkpoint.has(n.name)) keys.set(n.name, n.name);
    else if (sharedName !== '' && checkpoint.has(sharedName)) keys.set(n.name, sharedName);
  }
  return keys;
}
