/** Shared state and small graph helpers for the scikit-learn → ONNX converters. */
import { type Attr, attr, GraphBuilder, type OnnxElemType } from '@servekit/onnx';
import type { SklearnMethod } from '../methods.js';

/** Element types the converters pass between steps. */
export type ElemType = 'DOUBLE' | 'FLOAT' | 'INT64' | 'STRING';

/** A 2-D tensor [N, cols] flowing through the graph. */
export interface Var {
  name: string;
  type: ElemType;
  cols: number;
}

/** What a classifier converter produces. */
export interface ClassifierOut {
  /** INT64 [N]: index into `classes`. */
  labelIndex: string;
  /** [N, C] probabilities (DOUBLE or FLOAT), when the estimator has predict_proba. */
  probabilities?: Var;
  /** decision_function: [N, C], or [N, 1] for binary problems (served as [N]). */
  decision?: Var;
  /** The label `labelIndex` == classes.length stands for (RadiusNeighborsClassifier's outlier_label outside classes_). */
  extraLabel?: number | string;
}

export { SKLEARN_METHODS, type SklearnMethod } from '../methods.js';

/**
 * What an estimator that is neither a plain classifier, regressor nor transformer offers (clusterers, outlier
 * detectors, mixtures): its methods as graph values. [N, 1] values are served as [N].
 */
export type MethodOutputs = Partial<Record<SklearnMethod, Var>> & {
  /** kneighbors' second output, INT64 [N, k] indices into the training rows (`kneighbors` holds the distances). */
  kneighborsIndices?: Var;
};

/** Wraps a GraphBuilder with the helpers the converters share. */
export class ConvertContext {
  readonly g = new GraphBuilder('sklearn');
  /**
   * Rows scikit-learn raises for, from any estimator in the model (a DOUBLE [N, 1] flag, 1 = refused), and why: a
   * request holding such rows is answered with a 400 that names them.
   */
  readonly rowRefusals: { name: string; reason: string }[] = [];

  constructor() {
    this.g.opset('', 19);
  }

  /** A fresh name. */
  name(prefix: string): string {
    return this.g.uniqueName(prefix);
  }

  /** Add a node with one output; returns the output name. */
  op(opType: string, inputs: string[], attributes: Record<string, Attr> = {}, domain = ''): string {
    return this.g.node(opType, inputs, 1, attributes, domain)[0]!;
  }

  /** Add an ai.onnx.ml node (opset 3) with `n` outputs. */
  ml(opType: string, inputs: string[], attributes: Record<string, Attr>, n = 1): string[] {
    this.g.opset('ai.onnx.ml', 3);
    return this.g.node(opType, inputs, n, attributes, 'ai.onnx.ml');
  }

  /** A constant tensor. */
  const(type: OnnxElemType, dims: number[], values: ArrayLike<number | bigint | string>): string {
    return this.g.constant(this.name('c'), { type, dims, values });
  }

  /** A DOUBLE constant. */
  constD(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    return this.const('DOUBLE', dims, values);
  }

  /** An INT64 constant. */
  constI(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    return this.const('INT64', dims, values);
  }

  /** Cast to `to`, skipping the node when already that type. */
  cast(v: Var, to: ElemType): Var {
    if (v.type === to) return v;
    return { name: this.op('Cast', [v.name], { to: attr.i(ONNX_TYPE[to]) }), type: to, cols: v.cols };
  }

  /** X · W + b in float64, W given row-major [F, K]; b may be omitted. */
  affine(x: Var, w: ArrayLike<number>, k: number, b?: ArrayLike<number>): Var {
    const xd = this.cast(x, 'DOUBLE');
    let y = this.op('MatMul', [xd.name, this.constD(w, [x.cols, k])]);
    if (b) y = this.op('Add', [y, this.constD(b, [k])]);
    return { name: y, type: 'DOUBLE', cols: k };
  }

  /** Concatenate along columns. */
  concat(vars: Var[]): Var {
    if (vars.length === 1) return vars[0]!;
    const type = vars[0]!.type;
    const parts = vars.map((v) => this.cast(v, type === 'STRING' ? 'STRING' : v.type === type ? type : 'DOUBLE'));
    const t = parts.every((p) => p.type === parts[0]!.type) ? parts[0]!.type : 'DOUBLE';
    const aligned = parts.map((p) => this.cast(p, t));
    return {
      name: this.op(
        'Concat',
        aligned.map((p) => p.name),
        { axis: attr.i(1) },
      ),
      type: t,
      cols: aligned.reduce((a, p) => a + p.cols, 0),
    };
  }

  /** Columns `idx` of a [N, F] tensor. */
  columns(x: Var, idx: number[]): Var {
    if (idx.length === x.cols && idx.every((v, i) => v === i)) return x;
    return { name: this.op('Gather', [x.name, this.constI(idx)], { axis: attr.i(1) }), type: x.type, cols: idx.length };
  }

  /** Row-wise argmax as INT64 [N]. */
  argmax(x: Var): string {
    return this.op('ArgMax', [x.name], { axis: attr.i(1), keepdims: attr.i(0) });
  }

  /** Binary decision [N,1] → INT64 [N] index: 1 where d > 0. */
  positiveIndex(d: Var): string {
    const gt = this.op('Greater', [d.name, this.const(d.type === 'FLOAT' ? 'FLOAT' : 'DOUBLE', [], [0])]);
    const i = this.op('Cast', [gt], { to: attr.i(ONNX_TYPE.INT64) });
    return this.op('Reshape', [i, this.constI([-1])]);
  }

  /** Row-normalize [N, C] so each row sums to 1 (rows of 0 stay 0 like sklearn's normalizer guard). */
  normalizeRows(x: Var): Var {
    const s = this.op('ReduceSum', [x.name, this.constI([1])], { keepdims: attr.i(1) });
    const zero = this.op('Equal', [s, this.const(x.type === 'FLOAT' ? 'FLOAT' : 'DOUBLE', [], [0])]);
    const safe = this.op('Where', [zero, this.const(x.type === 'FLOAT' ? 'FLOAT' : 'DOUBLE', [], [1]), s]);
    return { name: this.op('Div', [x.name, safe]), type: x.type, cols: x.cols };
  }

  /** [N,1] positive-class probability p → [N,2] [1-p, p]. */
  twoColumns(p: Var): Var {
    const one = this.const(p.type === 'FLOAT' ? 'FLOAT' : 'DOUBLE', [], [1]);
    const q = this.op('Sub', [one, p.name]);
    return { name: this.op('Concat', [q, p.name], { axis: attr.i(1) }), type: p.type, cols: 2 };
  }

  /** Apply a unary op, keeping the shape. */
  unary(opType: string, x: Var): Var {
    return { name: this.op(opType, [x.name]), type: x.type, cols: x.cols };
  }

  /** Softmax over columns. */
  softmax(x: Var): Var {
    return { name: this.op('Softmax', [x.name], { axis: attr.i(1) }), type: x.type, cols: x.cols };
  }
}

/** ONNX TensorProto.DataType codes. */
export const ONNX_TYPE = { FLOAT: 1, INT64: 7, STRING: 8, DOUBLE: 11 } as const;
