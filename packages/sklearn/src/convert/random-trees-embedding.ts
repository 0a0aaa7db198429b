/**
 * RandomTreesEmbedding.transform: the leaf each tree sends a row to (`apply`, on float32 inputs as scikit-learn
 * validates them), one-hot encoded by the fitted `one_hot_encoder_` (columns tree by tree, each tree's leaf ids in
 * ascending order, as its `categories_`). Served dense, DOUBLE [N, total leaves].
 */
import { attr } from '@servekit/onnx';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isNdArray, isPyObject } from '../pickle/py-types.js';
import { type ConvertContext, ONNX_TYPE, type Var } from './context.js';
import { get, has, list, num, obj, toF64 } from './state.js';
import { TreeEnsembleBuilder } from './tree-ensemble.js';
import { readTree } from './trees.js';

/** Largest node id the leaf-id output carries exactly (TreeEnsembleRegressor sums in float32). */
const MAX_EXACT_NODE = 2 ** 24;

/** RandomTreesEmbedding: [N, Σ leaves] one-hot of each tree's leaf. */
export function randomTreesEmbedding(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const trees = list(est, 'estimators_').filter(isPyObject);
  const nIn = num(est, 'n_features_in_');
  if (nIn !== x.cols)
    throw new UnsupportedEstimatorError(`RandomTreesEmbedding expects ${nIn} features but its input has ${x.cols}`);
  if (trees.length === 0) throw new UnsupportedEstimatorError('RandomTreesEmbedding has no fitted trees');
  const encoder = obj(est, 'one_hot_encoder_');
  if (has(encoder, 'drop_idx_'))
    throw new UnsupportedEstimatorError('RandomTreesEmbedding.one_hot_encoder_ with drop is not supported');
  if (get(encoder, '_infrequent_enabled') === true)
    throw new UnsupportedEstimatorError(
      'RandomTreesEmbedding.one_hot_encoder_ with infrequent categories is not supported',
    );
  const categories = list(encoder, 'categories_');
  if (categories.length !== trees.length) {
    throw new UnsupportedEstimatorError(
      `RandomTreesEmbedding.one_hot_encoder_.categories_ has ${categories.length} entries for ${trees.length} trees`,
    );
  }
  const b = new TreeEnsembleBuilder(trees.length);
  const columnTree: number[] = [];
  const columnLeaf: number[] = [];
  trees.forEach((te, i) => {
    const t = readTree(te);
    if (t.left.length > MAX_EXACT_NODE)
      throw new UnsupportedEstimatorError(`RandomTreesEmbedding tree ${i} has more than ${MAX_EXACT_NODE} nodes`);
    const cats = categories[i];
    if (!isNdArray(cats) || cats.shape.length !== 1)
      throw new UnsupportedEstimatorError(`RandomTreesEmbedding.one_hot_encoder_.categories_[${i}] is not an array`);
    for (const leaf of toF64(cats)) {
      if (!(Number.isInteger(leaf) && leaf >= 0 && leaf < t.left.length && t.left[leaf]! < 0)) {
        throw new UnsupportedEstimatorError(
          `RandomTreesEmbedding.one_hot_encoder_.categories_[${i}] names ${leaf}, not a leaf of tree ${i}`,
        );
      }
      columnTree.push(i);
      columnLeaf.push(leaf);
    }
    b.add({ ...t, leafWeights: (node) => [[i, node]] });
  });
  // scikit-learn's apply validates X as float32 before walking the trees
  const x32 = ctx.cast(ctx.cast(x, 'FLOAT'), 'DOUBLE');
  const leaves = ctx.cast(b.emit(ctx, x32), 'DOUBLE');
  const perColumn = ctx.op('Gather', [leaves.name, ctx.constI(columnTree)], { axis: attr.i(1) });
  const hit = ctx.op('Equal', [perColumn, ctx.constD(columnLeaf, [1, columnLeaf.length])]);
  return { name: ctx.op('Cast', [hit], { to: attr.i(ONNX_TYPE.DOUBLE) }), type: 'DOUBLE', cols: columnLeaf.length };
}
