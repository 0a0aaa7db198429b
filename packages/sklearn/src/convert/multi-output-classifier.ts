/** MultiOutputClassifier: predict is one label column per output, each from its own fitted classifier. */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isPyObject } from '../pickle/py-types.js';
import { pipelineSteps } from './compose.js';
import type { ConvertContext, ElemType, MethodOutputs, Var } from './context.js';
import { applyClassifier, applyTransformer } from './registry.js';
import { arr, labels, list } from './state.js';

/** MultiOutputClassifier.predict: [N, outputs] labels (predict_proba, a list of arrays, is not served). */
export function multiOutputClassifier(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const members = list(est, 'estimators_').filter(isPyObject);
  if (members.length === 0) throw new UnsupportedEstimatorError('MultiOutputClassifier has no fitted estimators_');
  const outs = members.map((member) => {
    const steps = pipelineSteps(member);
    const last = steps[steps.length - 1]!;
    const v = steps.slice(0, -1).reduce((acc, s) => applyTransformer(ctx, s, acc), x);
    const classes = labels(arr(last, 'classes_'));
    return { index: applyClassifier(ctx, last, v).labelIndex, classes };
  });
  const all = outs.flatMap((o) => o.classes);
  const strings = all.some((c) => typeof c === 'string');
  if (strings && !all.every((c) => typeof c === 'string'))
    throw new UnsupportedEstimatorError('MultiOutputClassifier outputs mix string and numeric labels');
  const type: ElemType = strings ? 'STRING' : all.every((c) => Number.isInteger(c)) ? 'INT64' : 'DOUBLE';
  const columns = outs.map(({ index, classes }) => {
    const table = ctx.const(type, [classes.length], strings ? classes.map(String) : classes.map(Number));
    const label = ctx.op('Gather', [table, ctx.op('Reshape', [index, ctx.constI([-1])])], { axis: attr.i(0) });
    return ctx.op('Unsqueeze', [label, ctx.constI([1])]);
  });
  const name = columns.length === 1 ? columns[0]! : ctx.op('Concat', columns, { axis: attr.i(1) });
  return { predict: { name, type, cols: columns.length } };
}
