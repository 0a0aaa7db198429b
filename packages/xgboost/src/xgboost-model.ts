import type { OutputTransform, Tree, TreeEnsemble, TreeNode } from './tree-ensemble.js';

/** One XGBoost regression tree in XGBoost's own array layout (as in model.json and the legacy binary). */
export interface XgbTree {
  /** Left child per node; -1 marks a leaf. */
  left: ArrayLike<number>;
  /** Right child per node. */
  right: ArrayLike<number>;
  /** Feature index per split node. */
  splitIndex: ArrayLike<number>;
  /** Threshold per split node, leaf value per leaf (float32). */
  splitCondition: ArrayLike<number>;
  /** Whether a missing value goes left, per node. */
  defaultLeft: ArrayLike<number | boolean>;
  /** 0 numerical, 1 categorical, per node (absent in old models). */
  splitType?: ArrayLike<number>;
  /** For each categorical split node: the category codes that go right (every other value goes left). */
  nodeCategories?: ReadonlyMap<number, number[]>;
}

/** Everything about an XGBoost booster that prediction needs, whatever file format it came from. */
export interface XgbModel {
  /** Objective name, e.g. `binary:logistic`. */
  objective: string;
  /** `base_score` values as stored (probability space for logistic objectives since 1.0); one or one per output. */
  baseScore: number[];
  /** True when `baseScore` is already a margin (legacy binary models written before XGBoost 1.0). */
  baseScoreIsMargin: boolean;
  /** Number of input features. */
  numFeature: number;
  /** `num_class` (0 for non-multiclass). */
  numClass: number;
  /** `num_target` (1 unless multi-target regression). */
  numTarget: number;
  /** `gbtree` or `dart`. */
  booster: string;
  /** Trees in boosting order. */
  trees: XgbTree[];
  /** Output group of each tree. */
  treeInfo: ArrayLike<number>;
  /** DART per-tree weights. */
  weightDrop?: ArrayLike<number>;
  /** Feature names when the model stores them. */
  featureNames?: string[];
  /** Category names by feature (XGBoost ≥ 3.1 `cats`); a name's code is its position. */
  categoryNames?: (string[] | undefined)[];
}

/** How an XGBoost objective maps margins to `predict()` and `base_score` to a margin. */
interface ObjectiveInfo {
  transform: OutputTransform;
  /** XGBoost's `ObjFunction::ProbToMargin`. */
  toMargin: 'identity' | 'logit' | 'log';
  kind: 'classifier' | 'regressor';
}

const f32 = Math.fround;

const IDENTITY_REGRESSION: ObjectiveInfo = {
  transform: { kind: 'identity' },
  toMargin: 'identity',
  kind: 'regressor',
};
const EXP_REGRESSION: ObjectiveInfo = { transform: { kind: 'exp' }, toMargin: 'log', kind: 'regressor' };

/** The objectives servekit supports, with their link and base-score transform (XGBoost src/objective/*). */
export const XGBOOST_OBJECTIVES: Readonly<Record<string, ObjectiveInfo>> = {
  'reg:squarederror': IDENTITY_REGRESSION,
  'reg:linear': IDENTITY_REGRESSION,
  'reg:squaredlogerror': IDENTITY_REGRESSION,
  'reg:pseudohubererror': IDENTITY_REGRESSION,
  'reg:absoluteerror': IDENTITY_REGRESSION,
  'reg:quantileerror': IDENTITY_REGRESSION,
  'reg:logistic': { transform: { kind: 'sigmoid', scale: 1 }, toMargin: 'logit', kind: 'regressor' },
  'binary:logistic': { transform: { kind: 'sigmoid', scale: 1 }, toMargin: 'logit', kind: 'classifier' },
  'binary:logitraw': { transform: { kind: 'identity' }, toMargin: 'identity', kind: 'classifier' },
  'binary:hinge': { transform: { kind: 'hinge' }, toMargin: 'identity', kind: 'classifier' },
  'count:poisson': EXP_REGRESSION,
  'reg:gamma': EXP_REGRESSION,
  'reg:tweedie': EXP_REGRESSION,
  'survival:cox': EXP_REGRESSION,
  'survival:aft': EXP_REGRESSION,
  'multi:softprob': { transform: { kind: 'softmax' }, toMargin: 'identity', kind: 'classifier' },
  'multi:softmax': { transform: { kind: 'argmax' }, toMargin: 'identity', kind: 'classifier' },
  'rank:pairwise': IDENTITY_REGRESSION,
  'rank:ndcg': IDENTITY_REGRESSION,
  'rank:map': IDENTITY_REGRESSION,
};

/** XGBoost's ProbToMargin, in float32 as XGBoost computes it. */
function baseMargin(objective: string, p: number, how: ObjectiveInfo['toMargin']): number {
  switch (how) {
    case 'identity':
      return f32(p);
    case 'logit':
      if (!(p > 0 && p < 1)) {
        throw new Error(`base_score ${p} must be in (0, 1) for objective ${objective}`);
      }
      return f32(-Math.log(f32(f32(1 / p) - 1)));
    case 'log':
      if (!(p > 0)) throw new Error(`base_score ${p} must be positive for objective ${objective}`);
      return f32(Math.log(p));
  }
}

/**
 * Converts one XGBoost tree to the neutral form (`x < threshold` goes left, a categorical split sends its
 * categories right; missing goes to the default side).
 */
function convertTree(t: XgbTree, index: number, target: number, weight: number): Tree {
  const n = t.left.length;
  for (const [name, arr] of [
    ['right_children', t.right],
    ['split_indices', t.splitIndex],
    ['split_conditions', t.splitCondition],
    ['default_left', t.defaultLeft],
  ] as const) {
    if (arr.length !== n) {
      throw new Error(`tree ${index}: ${name} has ${arr.length} entries but left_children has ${n}`);
    }
  }
  const nodes: TreeNode[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const left = t.left[i]!;
    if (left === -1) {
      nodes[i] = { kind: 'leaf', value: weight === 1 ? f32(t.splitCondition[i]!) : f32(t.splitCondition[i]! * weight) };
      continue;
    }
    const right = t.right[i]!;
    for (const c of [left, right]) {
      if (!(Number.isInteger(c) && c > 0 && c < n)) {
        throw new Error(`tree ${index} node ${i} has child ${c}, outside 1..${n - 1}`);
      }
    }
    if (t.splitType && t.splitType[i] === 1) {
      // XGBoost's Decision(): a category in the node's set goes right; any other value (unseen, negative,
      // beyond 2^24) goes left; a missing value takes the default side.
      const categories = t.nodeCategories?.get(i);
      if (!categories) throw new Error(`tree ${index} node ${i} is a categorical split without a category set`);
      nodes[i] = {
        kind: 'categorical',
        feature: t.splitIndex[i]!,
        categories,
        missingGoesYes: !t.defaultLeft[i],
        yes: right,
        no: left,
      };
      continue;
    }
    nodes[i] = {
      kind: 'split',
      feature: t.splitIndex[i]!,
      threshold: f32(t.splitCondition[i]!),
      mode: 'BRANCH_LT',
      missingGoesYes: Boolean(t.defaultLeft[i]),
      yes: left,
      no: right,
    };
  }
  return { nodes, target };
}

/** Turns a parsed XGBoost booster into a tree ensemble whose margins and predictions equal `Booster.predict()`. */
export function xgbToEnsemble(m: XgbModel): { ensemble: TreeEnsemble; kind: 'classifier' | 'regressor' } {
  const info = XGBOOST_OBJECTIVES[m.objective];
  if (!info) {
    throw new Error(
      `objective ${JSON.stringify(m.objective)} is not supported; supported: ${Object.keys(XGBOOST_OBJECTIVES).join(', ')}`,
    );
  }
  if (m.booster !== 'gbtree' && m.booster !== 'dart') {
    throw new Error(`booster ${JSON.stringify(m.booster)} is not supported (only gbtree and dart tree models)`);
  }
  const numTargets = Math.max(m.numClass, m.numTarget, 1);
  if (m.objective.startsWith('multi:') && numTargets < 2) {
    throw new Error(`objective ${m.objective} needs num_class >= 2, the model has ${m.numClass}`);
  }
  if (m.treeInfo.length !== m.trees.length) {
    throw new Error(`tree_info has ${m.treeInfo.length} entries for ${m.trees.length} trees`);
  }
  if (m.weightDrop && m.weightDrop.length !== m.trees.length) {
    throw new Error(`weight_drop has ${m.weightDrop.length} entries for ${m.trees.length} trees`);
  }
  const trees = m.trees.map((t, i) => {
    const target = m.treeInfo[i]!;
    if (!(Number.isInteger(target) && target >= 0 && target < numTargets)) {
      throw new Error(`tree ${i} belongs to output group ${target}, but the model has ${numTargets}`);
    }
    return convertTree(t, i, target, m.weightDrop ? m.weightDrop[i]! : 1);
  });
  if (m.baseScore.length !== 1 && m.baseScore.length !== numTargets) {
    throw new Error(`base_score has ${m.baseScore.length} values for ${numTargets} outputs`);
  }
  const margins = m.baseScore.map((b) => (m.baseScoreIsMargin ? f32(b) : baseMargin(m.objective, b, info.toMargin)));
  const baseValues = Array.from({ length: numTargets }, (_, k) => margins[m.baseScore.length === 1 ? 0 : k]!);
  return {
    ensemble: {
      numFeatures: m.numFeature,
      numTargets,
      baseValues,
      trees,
      transform: info.transform,
      categoryRounding: 'floor',
    },
    kind: info.kind,
  };
}
