/** Collects decision trees into one ai.onnx.ml TreeEnsembleRegressor node (float64 thresholds and weights). */
import { attr } from '@servekit/onnx';
import type { ConvertContext, Var } from './context.js';

/** One tree in flat form: children -1 mark leaves; `left` is taken when x[feature] <= threshold. */
export interface FlatTree {
  left: ArrayLike<number>;
  right: ArrayLike<number>;
  feature: ArrayLike<number>;
  threshold: ArrayLike<number>;
  /** 1 where a missing value (NaN) goes left; absent → NaN goes right (x <= t is false). */
  missingGoLeft?: ArrayLike<number>;
  /** Explicit leaf flags (HistGradientBoosting); when absent, a negative left child marks a leaf. */
  isLeaf?: ArrayLike<number>;
  /** Leaf → contribution to each target (target index, weight). */
  leafWeights(node: number): [number, number][];
}

/** Builds a TreeEnsembleRegressor that sums leaf weights over trees into `nTargets` outputs. */
export class TreeEnsembleBuilder {
  private readonly treeIds: number[] = [];
  private readonly nodeIds: number[] = [];
  private readonly featureIds: number[] = [];
  private readonly modes: string[] = [];
  private readonly values: number[] = [];
  private readonly trueIds: number[] = [];
  private readonly falseIds: number[] = [];
  private readonly missingTrue: number[] = [];
  private readonly tTree: number[] = [];
  private readonly tNode: number[] = [];
  private readonly tId: number[] = [];
  private readonly tWeight: number[] = [];
  private trees = 0;

  constructor(readonly nTargets: number) {}

  /** Append one tree. */
  add(tree: FlatTree): void {
    const t = this.trees++;
    const n = tree.left.length;
    for (let i = 0; i < n; i++) {
      const l = tree.left[i]!;
      this.treeIds.push(t);
      this.nodeIds.push(i);
      if (tree.isLeaf ? tree.isLeaf[i] : l < 0) {
        this.featureIds.push(0);
        this.modes.push('LEAF');
        this.values.push(0);
        this.trueIds.push(0);
        this.falseIds.push(0);
        this.missingTrue.push(0);
        for (const [target, w] of tree.leafWeights(i)) {
          this.tTree.push(t);
          this.tNode.push(i);
          this.tId.push(target);
          this.tWeight.push(w);
        }
      } else {
        this.featureIds.push(tree.feature[i]!);
        this.modes.push('BRANCH_LEQ');
        this.values.push(tree.threshold[i]!);
        this.trueIds.push(l);
        this.falseIds.push(tree.right[i]!);
        this.missingTrue.push(tree.missingGoLeft ? (tree.missingGoLeft[i]! ? 1 : 0) : 0);
      }
    }
  }

  /** Emit the node; returns the [N, nTargets] FLOAT sums plus `base`. Input is compared in float64. */
  emit(ctx: ConvertContext, x: Var, base?: ArrayLike<number>): Var {
    const xd = ctx.cast(x, 'DOUBLE');
    const attrs = {
      n_targets: attr.i(this.nTargets),
      aggregate_function: attr.s('SUM'),
      post_transform: attr.s('NONE'),
      nodes_treeids: attr.ints(this.treeIds),
      nodes_nodeids: attr.ints(this.nodeIds),
      nodes_featureids: attr.ints(this.featureIds),
      nodes_modes: attr.strings(this.modes),
      nodes_values_as_tensor: attr.t({ type: 'DOUBLE', dims: [this.values.length], values: this.values }),
      nodes_truenodeids: attr.ints(this.trueIds),
      nodes_falsenodeids: attr.ints(this.falseIds),
      nodes_missing_value_tracks_true: attr.ints(this.missingTrue),
      target_treeids: attr.ints(this.tTree),
      target_nodeids: attr.ints(this.tNode),
      target_ids: attr.ints(this.tId),
      target_weights_as_tensor: attr.t({ type: 'DOUBLE', dims: [this.tWeight.length], values: this.tWeight }),
      ...(base
        ? { base_values_as_tensor: attr.t({ type: 'DOUBLE', dims: [base.length], values: Array.from(base) }) }
        : {}),
    };
    const [y] = ctx.ml('TreeEnsembleRegressor', [xd.name], attrs);
    return { name: y!, type: 'FLOAT', cols: this.nTargets };
  }
}
