/** One op that could not be lowered: its type, the first node using it, and why when the op type itself is mapped. */
export interface UnsupportedOp {
  /** TF op type. */
  op: string;
  /** First node (name) with that op. */
  node: string;
  /** Why this node could not be lowered (absent: the op type has no ONNX mapping at all). */
  reason?: string;
}

/** A frozen graph holds ops (or op configurations) that have no ONNX lowering; `ops` lists the op types. */
export class UnsupportedTfOps extends Error {
  /** The op types that could not be lowered, in graph order. */
  readonly ops: string[];
  /** Each op with the first node that uses it and, for mapped ops, the reason. */
  readonly details: UnsupportedOp[];

  constructor(details: UnsupportedOp[]) {
    const list = details
      .map((d) => `${d.op} (node "${d.node}")${d.reason === undefined ? '' : `: ${d.reason}`}`)
      .join(', ');
    super(`cannot lower to ONNX: no ONNX lowering for op ${list}`);
    this.name = 'UnsupportedTfOps';
    this.details = details;
    this.ops = details.map((d) => d.op);
  }
}
