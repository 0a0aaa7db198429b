/**
 * The format-neutral tree ensemble that the XGBoost and LightGBM readers produce and the ONNX exporter
 * consumes: binary trees of numeric and categorical (set membership) splits, each tree adding its leaf value to
 * one output column.
 */

/** How a split compares the feature with its threshold; the true branch is taken when the comparison holds. */
export type SplitMode = 'BRANCH_LT' | 'BRANCH_LEQ';

/** An internal node: `x[feature] <mode> threshold` goes to `yes`, otherwise to `no`. */
export interface SplitNode {
  /** Discriminator. */
  kind: 'split';
  /** Feature (column) index. */
  feature: number;
  /** Threshold, already a float32 value (the ONNX attribute is float32). */
  threshold: number;
  /** Comparison. */
  mode: SplitMode;
  /** Whether a NaN feature goes to `yes` (true) or `no` (false). */
  missingGoesYes: boolean;
  /** Index (within the tree's node list) of the child taken when the comparison holds. */
  yes: number;
  /** Index of the child taken otherwise. */
  no: number;
}

/** A categorical split: `x[feature]` (a category code) in `categories` goes to `yes`, any other value to `no`. */
export interface CategoricalSplitNode {
  /** Discriminator. */
  kind: 'categorical';
  /** Feature (column) index. */
  feature: number;
  /** Category codes (non-negative integers) that take the `yes` branch. */
  categories: number[];
  /** Whether a NaN feature goes to `yes` (true) or `no` (false). */
  missingGoesYes: boolean;
  /** Index of the child taken for a category in the set. */
  yes: number;
  /** Index of the child taken otherwise. */
  no: number;
}

/** A leaf: adds `value` to the tree's output column. */
export interface LeafNode {
  /** Discriminator. */
  kind: 'leaf';
  /** Leaf value (already scaled by any tree weight). */
  value: number;
}

/** A node of a tree. */
export type TreeNode = SplitNode | CategoricalSplitNode | LeafNode;

/** One tree: nodes with the root at index 0, adding to output column `target`. */
export interface Tree {
  /** Nodes; index 0 is the root. Unreachable nodes are ignored. */
  nodes: TreeNode[];
  /** Output column (class / group) this tree adds to. */
  target: number;
}

/** The link applied to the summed margins to give what the library's `predict()` returns. */
export type OutputTransform =
  | { kind: 'identity' }
  /** `1 / (1 + exp(-scale * margin))`, elementwise. */
  | { kind: 'sigmoid'; scale: number }
  /** `exp(margin)`. */
  | { kind: 'exp' }
  /** Softmax over the columns. */
  | { kind: 'softmax' }
  /** Index of the largest column, as a float (XGBoost multi:softmax). */
  | { kind: 'argmax' }
  /** `margin > 0 ? 1 : 0` (XGBoost binary:hinge). */
  | { kind: 'hinge' }
  /** `log(1 + exp(margin))` (LightGBM cross_entropy_lambda). */
  | { kind: 'softplus' }
  /** `sign(margin) * margin²` (LightGBM regression with reg_sqrt). */
  | { kind: 'signed-square' };

/** A whole ensemble: margins[n, t] = base[t] + Σ leaf values of trees with target t, then `transform`. */
export interface TreeEnsemble {
  /** Number of input features (columns of the input matrix). */
  numFeatures: number;
  /** Number of output columns of the margin (1 for binary/regression, K for K classes). */
  numTargets: number;
  /** Per-column starting margin. */
  baseValues: number[];
  /** Trees. */
  trees: Tree[];
  /** Multiply the summed tree outputs by this before adding base values (LightGBM average_output: 1/iterations). */
  treeScale?: number;
  /** Link from margin to prediction. */
  transform: OutputTransform;
  /**
   * How the library turns a category feature value into an integer code before testing set membership:
   * `floor` (XGBoost: negative values are never a category), `trunc` (LightGBM: toward zero, so -0.5 is 0) or
   * `none` (CatBoost codes: only the exact integer matches). Applies to every feature that a categorical split
   * tests. Default `floor`.
   */
  categoryRounding?: 'floor' | 'trunc' | 'none';
}
