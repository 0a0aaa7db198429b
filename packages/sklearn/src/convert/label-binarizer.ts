/** LabelBinarizer.transform: labels (one column) → pos_label / neg_label indicator columns, as label_binarize does. */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { arr, labels, num, str } from './state.js';

/** LabelBinarizer (binary and multiclass targets; unseen labels give an all-neg_label row, as in scikit-learn). */
export function labelBinarizer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const yType = str(est, 'y_type_');
  if (yType !== 'binary' && yType !== 'multiclass') {
    throw new UnsupportedEstimatorError(
      `LabelBinarizer fitted on '${yType}' targets is not supported (binary, multiclass)`,
    );
  }
  if (x.cols !== 1) throw new UnsupportedEstimatorError(`LabelBinarizer takes one column of labels, got ${x.cols}`);
  const classes = labels(arr(est, 'classes_'));
  const neg = num(est, 'neg_label', 0);
  const pos = num(est, 'pos_label', 1);
  const m = classes.length;
  if (m === 1) {
    // a single class: one column of neg_label (scikit-learn's label_binarize)
    const filled = ctx.op('Expand', [ctx.constD([neg], [1, 1]), ctx.op('Shape', [x.name])]);
    return { name: filled, type: 'DOUBLE', cols: 1 };
  }
  const strings = classes.some((c) => typeof c === 'string');
  let eq: string;
  if (x.type === 'STRING') {
    eq = ctx.op('Equal', [x.name, ctx.const('STRING', [1, m], classes.map(String))]);
  } else {
    if (strings) throw new UnsupportedEstimatorError('LabelBinarizer with string classes got numeric labels');
    const xd = ctx.cast(x, 'DOUBLE');
    eq = ctx.op('Equal', [xd.name, ctx.constD(Float64Array.from(classes as number[]), [1, m])]);
  }
  const hit = ctx.op('Cast', [eq], { to: attr.i(11) });
  const scaled = ctx.op('Add', [ctx.op('Mul', [hit, ctx.constD([pos - neg], [])]), ctx.constD([neg], [])]);
  if (yType === 'binary' && m === 2) {
    const last = ctx.op('Slice', [scaled, ctx.constI([1]), ctx.constI([2]), ctx.constI([1])]);
    return { name: last, type: 'DOUBLE', cols: 1 };
  }
  return { name: scaled, type: 'DOUBLE', cols: m };
}

/**
 * LabelBinarizer.inverse_transform (threshold None), as TransformedTargetRegressor applies it to its regressor's
 * prediction: multiclass → the class of the largest column (first on ties); binary → classes_[1] where the value
 * passes (pos_label + neg_label) / 2.
 */
export function labelBinarizerInverse(ctx: ConvertContext, est: PyObject, y: Var): Var {
  const yType = str(est, 'y_type_');
  const classes = labels(arr(est, 'classes_'));
  const strings = classes.some((c) => typeof c === 'string');
  const table = strings
    ? ctx.const('STRING', [classes.length], classes.map(String))
    : ctx.constD(Float64Array.from(classes as number[]));
  let idx: string;
  if (yType === 'multiclass') {
    if (y.cols !== classes.length)
      throw new UnsupportedEstimatorError(`LabelBinarizer has ${classes.length} classes but gets ${y.cols} columns`);
    idx = ctx.op('ArgMax', [ctx.cast(y, 'DOUBLE').name], { axis: attr.i(1), keepdims: attr.i(1) });
  } else if (yType === 'binary' && y.cols === 1) {
    const threshold = (num(est, 'pos_label', 1) + num(est, 'neg_label', 0)) / 2;
    const passes = ctx.op('Greater', [ctx.cast(y, 'DOUBLE').name, ctx.constD([threshold], [])]);
    idx = ctx.op('Cast', [passes], { to: attr.i(7) });
    if (classes.length === 1) idx = ctx.op('Mul', [idx, ctx.constI([0], [])]);
  } else {
    throw new UnsupportedEstimatorError(`LabelBinarizer.inverse_transform of '${yType}' targets is not supported`);
  }
  return { name: ctx.op('Gather', [table, idx], { axis: attr.i(0) }), type: strings ? 'STRING' : 'DOUBLE', cols: 1 };
}
