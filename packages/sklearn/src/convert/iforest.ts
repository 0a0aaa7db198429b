/** IsolationForest: predict (1 inlier / −1 outlier), decision_function and score_samples from path lengths. */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isNdArray, isPyObject } from '../pickle/py-types.js';
import type { ConvertContext, MethodOutputs, Var } from './context.js';
import { arr, list, num, obj, toF64 } from './state.js';
import { TreeEnsembleBuilder } from './tree-ensemble.js';
import { readTree } from './trees.js';

const EULER_GAMMA = 0.5772156649015329;

/** sklearn's _average_path_length(n) for one n. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** Depth of every node of a tree given its children (root depth 0). */
function depths(left: Float64Array, right: Float64Array): Int32Array {
  const d = new Int32Array(left.length);
  for (let i = 0; i < left.length; i++) {
    if (left[i]! >= 0) {
      d[left[i]!] = d[i]! + 1;
      d[right[i]!] = d[i]! + 1;
    }
  }
  return d;
}

/** IsolationForest: Σ over trees of (leaf depth + c(n_leaf)), scores 2^(−Σ / (T·c(max_samples_))). */
export function isolationForest(ctx: ConvertContext, est: PyObject, x: Var): MethodOutputs {
  const trees = list(est, 'estimators_').filter(isPyObject);
  const features = list(est, 'estimators_features_');
  const nIn = num(est, 'n_features_in_');
  if (nIn !== x.cols)
    throw new UnsupportedEstimatorError(`IsolationForest expects ${nIn} features but its input has ${x.cols}`);
  // each tree writes its leaf's node id (exact in float32) to its own target; path lengths are then gathered in float64
  const b = new TreeEnsembleBuilder(trees.length);
  const table: number[] = [];
  const offsets: number[] = [];
  trees.forEach((te, i) => {
    const t = readTree(te);
    const fa = features[i];
    const map = isNdArray(fa) ? toF64(fa) : Float64Array.from({ length: nIn }, (_, j) => j);
    const nodes = arr(obj(te, 'tree_'), 'nodes');
    const nSamples = nodes.fields?.get('n_node_samples');
    if (!nSamples) throw new UnsupportedEstimatorError('IsolationForest tree has no n_node_samples');
    const counts = toF64(nSamples);
    const d = depths(t.left, t.right);
    offsets.push(table.length);
    for (let node = 0; node < t.left.length; node++) table.push(d[node]! + averagePathLength(counts[node]!));
    b.add({
      ...t,
      feature: Float64Array.from(t.feature, (f) => (f >= 0 ? map[f]! : f)),
      leafWeights: (node) => [[i, node]],
    });
  });
  // sklearn validates X as float32 before walking the trees
  const x32 = ctx.cast(ctx.cast(x, 'FLOAT'), 'DOUBLE');
  const leaves = ctx.cast(b.emit(ctx, x32), 'INT64');
  const flatIdx = ctx.op('Add', [leaves.name, ctx.constI(offsets, [1, trees.length])]);
  const lengths = ctx.op('Gather', [ctx.constD(table), flatIdx], { axis: attr.i(0) });
  const sum = {
    name: ctx.op('ReduceSum', [lengths, ctx.constI([1])], { keepdims: attr.i(1) }),
    type: 'DOUBLE' as const,
    cols: 1,
  };
  const denominator = trees.length * averagePathLength(num(est, 'max_samples_'));
  const ratio =
    denominator !== 0
      ? ctx.op('Div', [sum.name, ctx.constD([denominator], [])])
      : ctx.op('Mul', [sum.name, ctx.constD([0], [])]);
  const ones = denominator !== 0 ? ratio : ctx.op('Add', [ratio, ctx.constD([1], [])]);
  const score = ctx.op('Neg', [ctx.op('Pow', [ctx.constD([2], []), ctx.op('Neg', [ones])])]);
  const decision = ctx.op('Sub', [score, ctx.constD([num(est, 'offset_')], [])]);
  const outlier = ctx.op('Less', [decision, ctx.constD([0], [])]);
  const label = ctx.op('Where', [outlier, ctx.constI([-1], []), ctx.constI([1], [])]);
  return {
    predict: { name: label, type: 'INT64', cols: 1 },
    decision_function: { name: decision, type: 'DOUBLE', cols: 1 },
    score_samples: { name: score, type: 'DOUBLE', cols: 1 },
  };
}
