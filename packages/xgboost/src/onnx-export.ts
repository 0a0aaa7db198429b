import { attr, GraphBuilder } from '@servekit/onnx';
import type { OutputTransform, Tree, TreeEnsemble, TreeNode } from './tree-ensemble.js';

/** Name of the graph input: FP32 [N, numFeatures]. */
export const INPUT_NAME = 'input';
/** Name of the output that equals the library's `predict()`. */
export const PREDICT_OUTPUT = 'predict';
/** Name of the output that equals `predict(output_margin=True)` (raw scores). */
export const MARGIN_OUTPUT = 'margin';

/** Shape of one graph output; `'N'` is the batch dimension. */
export type OutputShape = Array<number | 'N'>;

/** What `ensembleToOnnx` built: the model bytes and its output shapes. */
export interface EnsembleOnnx {
  /** Serialized ONNX ModelProto. */
  onnx: Uint8Array;
  /** Shape of `predict`. */
  predictShape: OutputShape;
  /** Shape of `margin`. */
  marginShape: OutputShape;
}

/** Flat ai.onnx.ml TreeEnsembleRegressor attribute arrays. */
interface EnsembleArrays {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  values: number[];
  modes: string[];
  trueIds: number[];
  falseIds: number[];
  missingTracksTrue: number[];
  targetTreeIds: number[];
  targetNodeIds: number[];
  targetIds: number[];
  targetWeights: number[];
}

/** ONNX node ids one tree node takes: a categorical split becomes a chain of one BRANCH_EQ per category. */
const idsTaken = (node: TreeNode): number => (node.kind === 'categorical' ? Math.max(1, node.categories.length) : 1);

/** Pushes one ONNX node that is not a leaf. */
function pushBranch(
  out: EnsembleArrays,
  treeId: number,
  id: number,
  b: { feature: number; value: number; mode: string; yes: number; no: number; missingYes: boolean },
): void {
  out.treeIds.push(treeId);
  out.nodeIds.push(id);
  out.featureIds.push(b.feature);
  out.values.push(b.value);
  out.modes.push(b.mode);
  out.trueIds.push(b.yes);
  out.falseIds.push(b.no);
  out.missingTracksTrue.push(b.missingYes ? 1 : 0);
}

/**
 * Appends one tree (renumbered depth-first from its root) to the attribute arrays. A categorical split on
 * categories c1..ck becomes `x == c1 ? yes : (x == c2 ? yes : … (x == ck ? yes : no))`, every link pointing at
 * the same `yes` subtree (onnxruntime accepts shared true branches: it is how it runs LightGBM set splits).
 */
function appendTree(tree: Tree, treeId: number, numFeatures: number, numTargets: number, out: EnsembleArrays): void {
  if (tree.nodes.length === 0) throw new Error(`tree ${treeId} has no nodes`);
  if (!(tree.target >= 0 && tree.target < numTargets)) {
    throw new Error(`tree ${treeId} targets output ${tree.target}, but the model has ${numTargets}`);
  }
  const newId = new Map<number, number>();
  const order: number[] = [];
  const stack = [0];
  let nextId = 0;
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (newId.has(i)) throw new Error(`tree ${treeId}: node ${i} is reached twice (the tree has a cycle)`);
    const node = tree.nodes[i];
    if (!node) throw new Error(`tree ${treeId}: node ${i} does not exist (the tree has ${tree.nodes.length})`);
    newId.set(i, nextId);
    nextId += idsTaken(node);
    order.push(i);
    if (node.kind !== 'leaf') stack.push(node.no, node.yes);
  }
  for (const i of order) {
    const node = tree.nodes[i]!;
    const id = newId.get(i)!;
    if (node.kind === 'leaf') {
      out.treeIds.push(treeId);
      out.nodeIds.push(id);
      out.featureIds.push(0);
      out.values.push(0);
      out.modes.push('LEAF');
      out.trueIds.push(0);
      out.falseIds.push(0);
      out.missingTracksTrue.push(0);
      out.targetTreeIds.push(treeId);
      out.targetNodeIds.push(id);
      out.targetIds.push(tree.target);
      out.targetWeights.push(node.value);
      continue;
    }
    if (!(Number.isInteger(node.feature) && node.feature >= 0 && node.feature < numFeatures)) {
      throw new Error(`tree ${treeId}: node ${i} splits on feature ${node.feature}, but the model has ${numFeatures}`);
    }
    const yes = newId.get(node.yes)!;
    const no = newId.get(node.no)!;
    if (node.kind === 'split') {
      const b = { feature: node.feature, value: node.threshold, mode: node.mode, yes, no };
      pushBranch(out, treeId, id, { ...b, missingYes: node.missingGoesYes });
      continue;
    }
    const cats = node.categories;
    if (cats.length === 0) {
      // No category takes `yes`: x < -inf never holds, so only a missing value can go there.
      const b = { feature: node.feature, value: -Infinity, mode: 'BRANCH_LT', yes, no };
      pushBranch(out, treeId, id, { ...b, missingYes: node.missingGoesYes });
      continue;
    }
    cats.forEach((c, j) => {
      if (!(Number.isInteger(c) && c >= 0 && Math.fround(c) === c)) {
        throw new Error(`tree ${treeId}: node ${i} has category ${c}, not a non-negative integer below 2^24`);
      }
      const last = j === cats.length - 1;
      const b = { feature: node.feature, value: c, mode: 'BRANCH_EQ', yes, no: last ? no : id + j + 1 };
      pushBranch(out, treeId, id + j, { ...b, missingYes: j === 0 && node.missingGoesYes });
    });
  }
}

/** Features that some categorical split tests. */
function categoricalFeatures(trees: Tree[]): number[] {
  const set = new Set<number>();
  for (const t of trees) for (const n of t.nodes) if (n.kind === 'categorical') set.add(n.feature);
  return [...set].sort((a, b) => a - b);
}

/**
 * Rounds the category columns of `input` to integer codes as the library does before a set lookup
 * (XGBoost: floor; LightGBM: toward zero); other columns pass unchanged, NaN stays NaN.
 */
function roundCategoryColumns(
  g: GraphBuilder,
  input: string,
  numFeatures: number,
  features: number[],
  rounding: 'floor' | 'trunc',
): string {
  const floor = g.node('Floor', [input])[0]!;
  let rounded = floor;
  if (rounding === 'trunc') {
    const zero = g.constant(g.uniqueName('zero'), { type: 'FLOAT', dims: [], values: [0] });
    const negative = g.node('Less', [input, zero])[0]!;
    const ceil = g.node('Ceil', [input])[0]!;
    rounded = g.node('Where', [negative, ceil, floor])[0]!;
  }
  const mask = new Array<number>(numFeatures).fill(0);
  for (const f of features) mask[f] = 1;
  const isCategory = g.constant(g.uniqueName('category_columns'), { type: 'BOOL', dims: [numFeatures], values: mask });
  return g.node('Where', [isCategory, rounded, input])[0]!;
}

/** Adds the nodes for `transform` after `margin` ([N, K]); returns the prediction tensor name and its shape. */
function applyTransform(
  g: GraphBuilder,
  transform: OutputTransform,
  margin: string,
  numTargets: number,
): { name: string; columns: boolean } {
  switch (transform.kind) {
    case 'identity':
      return { name: g.node('Identity', [margin])[0]!, columns: true };
    case 'sigmoid': {
      let x = margin;
      if (transform.scale !== 1) {
        const s = g.constant(g.uniqueName('sigmoid_scale'), { type: 'FLOAT', dims: [], values: [transform.scale] });
        x = g.node('Mul', [margin, s])[0]!;
      }
      return { name: g.node('Sigmoid', [x])[0]!, columns: true };
    }
    case 'exp':
      return { name: g.node('Exp', [margin])[0]!, columns: true };
    case 'softmax':
      return { name: g.node('Softmax', [margin], 1, { axis: attr.i(1) })[0]!, columns: true };
    case 'argmax': {
      if (numTargets < 2) throw new Error('argmax needs at least two output columns');
      const idx = g.node('ArgMax', [margin], 1, { axis: attr.i(1), keepdims: attr.i(0) })[0]!;
      return { name: g.node('Cast', [idx], 1, { to: attr.i(1) })[0]!, columns: false };
    }
    case 'hinge': {
      const zero = g.constant(g.uniqueName('zero'), { type: 'FLOAT', dims: [], values: [0] });
      const gt = g.node('Greater', [margin, zero])[0]!;
      return { name: g.node('Cast', [gt], 1, { to: attr.i(1) })[0]!, columns: true };
    }
    case 'softplus':
      return { name: g.node('Softplus', [margin])[0]!, columns: true };
    case 'signed-square': {
      const abs = g.node('Abs', [margin])[0]!;
      return { name: g.node('Mul', [margin, abs])[0]!, columns: true };
    }
  }
}

/** Squeezes [N, 1] to [N] into the output name `name`, or renames [N, K] to it. */
function emitOutput(g: GraphBuilder, src: string, name: string, squeeze: boolean): void {
  if (squeeze) {
    const axes = g.constant(g.uniqueName('axes'), { type: 'INT64', dims: [1], values: [1] });
    g.node('Squeeze', [src, axes], [name]);
  } else {
    g.node('Identity', [src], [name]);
  }
}

/**
 * Builds an ONNX model for a tree ensemble: input `input` FP32 [N, F]; outputs `predict` (what the library's
 * `predict()` returns) and `margin` (raw scores), each [N] for one output column and [N, K] for K.
 * Uses ai.onnx.ml TreeEnsembleRegressor (SUM) plus ai.onnx ops for the link (and, for categorical splits, the
 * rounding of category columns to integer codes).
 */
export function ensembleToOnnx(ensemble: TreeEnsemble): EnsembleOnnx {
  const { numFeatures, numTargets, baseValues, trees } = ensemble;
  if (!(numFeatures > 0)) throw new Error(`the model declares ${numFeatures} features`);
  if (!(numTargets > 0)) throw new Error(`the model declares ${numTargets} outputs`);
  if (baseValues.length !== numTargets) {
    throw new Error(`${baseValues.length} base values for ${numTargets} outputs`);
  }
  const arrays: EnsembleArrays = {
    treeIds: [],
    nodeIds: [],
    featureIds: [],
    values: [],
    modes: [],
    trueIds: [],
    falseIds: [],
    missingTracksTrue: [],
    targetTreeIds: [],
    targetNodeIds: [],
    targetIds: [],
    targetWeights: [],
  };
  trees.forEach((tree, i) => {
    appendTree(tree, i, numFeatures, numTargets, arrays);
  });
  const scale = ensemble.treeScale ?? 1;
  if (trees.length === 0) {
    // TreeEnsembleRegressor needs at least one tree: a single zero leaf changes nothing.
    arrays.treeIds.push(0);
    arrays.nodeIds.push(0);
    arrays.featureIds.push(0);
    arrays.values.push(0);
    arrays.modes.push('LEAF');
    arrays.trueIds.push(0);
    arrays.falseIds.push(0);
    arrays.missingTracksTrue.push(0);
    arrays.targetTreeIds.push(0);
    arrays.targetNodeIds.push(0);
    arrays.targetIds.push(0);
    arrays.targetWeights.push(0);
  }

  const g = new GraphBuilder('servekit_tree_ensemble');
  g.opset('ai.onnx.ml', 3);
  g.input(INPUT_NAME, 'FLOAT', ['N', numFeatures]);
  const catFeatures = categoricalFeatures(trees);
  const rounding = ensemble.categoryRounding ?? 'floor';
  const features =
    catFeatures.length > 0 && rounding !== 'none'
      ? roundCategoryColumns(g, INPUT_NAME, numFeatures, catFeatures, rounding)
      : INPUT_NAME;
  const [sum] = g.node(
    'TreeEnsembleRegressor',
    [features],
    1,
    {
      n_targets: attr.i(numTargets),
      aggregate_function: attr.s('SUM'),
      post_transform: attr.s('NONE'),
      base_values: attr.floats(scale === 1 ? baseValues : baseValues.map(() => 0)),
      nodes_treeids: attr.ints(arrays.treeIds),
      nodes_nodeids: attr.ints(arrays.nodeIds),
      nodes_featureids: attr.ints(arrays.featureIds),
      nodes_values: attr.floats(arrays.values),
      nodes_modes: attr.strings(arrays.modes),
      nodes_truenodeids: attr.ints(arrays.trueIds),
      nodes_falsenodeids: attr.ints(arrays.falseIds),
      nodes_missing_value_tracks_true: attr.ints(arrays.missingTracksTrue),
      target_treeids: attr.ints(arrays.targetTreeIds),
      target_nodeids: attr.ints(arrays.targetNodeIds),
      target_ids: attr.ints(arrays.targetIds),
      target_weights: attr.floats(arrays.targetWeights),
    },
    'ai.onnx.ml',
  );
  let margin = sum!;
  if (scale !== 1) {
    const s = g.constant('tree_scale', { type: 'FLOAT', dims: [], values: [scale] });
    margin = g.node('Mul', [margin, s])[0]!;
    if (baseValues.some((v) => v !== 0)) {
      const b = g.constant('base_values', { type: 'FLOAT', dims: [numTargets], values: baseValues });
      margin = g.node('Add', [margin, b])[0]!;
    }
  }
  const single = numTargets === 1;
  const pred = applyTransform(g, ensemble.transform, margin, numTargets);
  emitOutput(g, pred.name, PREDICT_OUTPUT, single && pred.columns);
  emitOutput(g, margin, MARGIN_OUTPUT, single);
  const predictShape: OutputShape = single || !pred.columns ? ['N'] : ['N', numTargets];
  const marginShape: OutputShape = single ? ['N'] : ['N', numTargets];
  g.output(PREDICT_OUTPUT, 'FLOAT', predictShape);
  g.output(MARGIN_OUTPUT, 'FLOAT', marginShape);
  return { onnx: g.toBytes(), predictShape, marginShape };
}
