import type { XgbModel, XgbTree } from './xgboost-model.js';

/**
 * Reader for XGBoost's legacy binary model format (`Booster.save_model('model.bst')` / `.model`, XGBoost < 2.1),
 * little-endian, laid out as XGBoost 1.7 writes it (src/learner.cc LearnerIO::SaveModel,
 * src/gbm/gbtree_model.cc GBTreeModel::Save, src/tree/tree_model.cc RegTree::Save):
 *
 *   ["binf"]                         optional 4-byte magic
 *   LearnerModelParamLegacy          136 bytes: f32 base_score, u32 num_feature, i32 num_class,
 *                                    i32 contain_extra_attrs, i32 contain_eval_metrics, u32 major_version,
 *                                    u32 minor_version, u32 num_target, i32 boost_from_average, i32 reserved[25]
 *   string objective, string booster u64 length + bytes each
 *   GBTreeModelParam                 160 bytes: i32 num_trees, i32 num_parallel_tree, i32 num_feature, i32 pad,
 *                                    i64 num_pbuffer_deprecated, i32 num_output_group, i32 size_leaf_vector,
 *                                    i32 reserved[32]
 *   per tree: TreeParam              148 bytes: i32 num_roots, num_nodes, num_deleted, max_depth, num_feature,
 *                                    size_leaf_vector, reserved[31]
 *             Node × num_nodes       20 bytes: i32 parent, i32 cleft, i32 cright, u32 sindex (bit 31 = default
 *                                    left, low 31 bits = feature), f32 info (leaf value or split threshold)
 *             RTreeNodeStat × num_nodes  16 bytes (loss_chg, sum_hess, base_weight, leaf_child_cnt)
 *   i32 tree_info × num_trees        (when num_trees > 0)
 *   [dart] u64 n + f32 weight_drop × n
 *   [contain_extra_attrs] u64 n + n × (string key, string value)   (includes "objective" JSON config)
 */
const LEARNER_PARAM_SIZE = 136;
const GBTREE_PARAM_SIZE = 160;
const TREE_PARAM_SIZE = 148;
const NODE_SIZE = 20;
const STAT_SIZE = 16;
const DELETED_NODE = 0xffffffff;

class BinReader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new Error(
        `truncated: ${what} needs ${n} byte(s) at offset ${this.pos}, but the file ends at ${this.bytes.length}`,
      );
    }
  }

  i32(at: number): number {
    return this.view.getInt32(at, true);
  }

  u32(at: number): number {
    return this.view.getUint32(at, true);
  }

  f32(at: number): number {
    return this.view.getFloat32(at, true);
  }

  u64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.bytes.length)) throw new Error(`${what} is ${v}, larger than the file (${this.bytes.length})`);
    return Number(v);
  }

  string(what: string): string {
    const n = this.u64(`${what} length`);
    this.need(n, what);
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  /** Reserves `n` bytes and returns their start offset. */
  take(n: number, what: string): number {
    this.need(n, what);
    const at = this.pos;
    this.pos += n;
    return at;
  }
}

function readTree(r: BinReader, index: number): XgbTree {
  const p = r.take(TREE_PARAM_SIZE, `tree ${index} parameters`);
  const numNodes = r.i32(p + 4);
  const numDeleted = r.i32(p + 8);
  const sizeLeafVector = r.i32(p + 20);
  if (!(numNodes > 0 && numNodes < 1 << 28)) throw new Error(`tree ${index} declares ${numNodes} nodes`);
  if (sizeLeafVector > 1) throw new Error(`tree ${index} has vector leaves (size ${sizeLeafVector}); not supported`);
  const nodesAt = r.take(NODE_SIZE * numNodes, `tree ${index} nodes (${numNodes})`);
  r.take(STAT_SIZE * numNodes, `tree ${index} node statistics`);
  const left = new Int32Array(numNodes);
  const right = new Int32Array(numNodes);
  const splitIndex = new Int32Array(numNodes);
  const splitCondition = new Float32Array(numNodes);
  const defaultLeft = new Uint8Array(numNodes);
  let deleted = 0;
  for (let i = 0; i < numNodes; i++) {
    const at = nodesAt + i * NODE_SIZE;
    left[i] = r.i32(at + 4);
    right[i] = r.i32(at + 8);
    const sindex = r.u32(at + 12);
    if (sindex === DELETED_NODE) deleted++;
    splitIndex[i] = sindex & 0x7fffffff;
    defaultLeft[i] = sindex >>> 31;
    splitCondition[i] = r.f32(at + 16);
  }
  if (deleted !== numDeleted) {
    throw new Error(`tree ${index} declares ${numDeleted} deleted nodes but has ${deleted} (corrupt tree)`);
  }
  return { left, right, splitIndex, splitCondition, defaultLeft };
}

/** True when the bytes start like a legacy binary XGBoost model (after the optional "binf" magic). */
export function looksLikeXgbBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x62 && bytes[1] === 0x69 && bytes[2] === 0x6e && bytes[3] === 0x66;
}

/** Parses a legacy binary XGBoost model. Throws an Error saying what is wrong and at which offset. */
export function parseXgbBinary(bytes: Uint8Array): XgbModel {
  const r = new BinReader(bytes);
  if (looksLikeXgbBinary(bytes)) r.pos = 4;
  if (bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === 'bs64') {
    throw new Error('base64 ("bs64") XGBoost models are not supported (XGBoost itself dropped them)');
  }
  const lp = r.take(LEARNER_PARAM_SIZE, 'the learner parameters');
  const baseScore = r.f32(lp);
  const numFeature = r.u32(lp + 4);
  const numClass = r.i32(lp + 8);
  const containExtraAttrs = r.i32(lp + 12);
  const majorVersion = r.u32(lp + 20);
  const numTarget = r.u32(lp + 28);
  if (numClass < 0 || numClass > 1 << 20) throw new Error(`num_class ${numClass} is invalid (not an XGBoost model?)`);
  if (numFeature === 0 || numFeature > 1 << 28) {
    throw new Error(`num_feature ${numFeature} is invalid (not an XGBoost model?)`);
  }
  const objective = r.string('the objective name');
  const booster = r.string('the booster name');
  if (!/^[a-z]+:[a-z_]+$/.test(objective)) {
    throw new Error(`the objective name ${JSON.stringify(objective.slice(0, 40))} is invalid (not an XGBoost model?)`);
  }
  if (booster !== 'gbtree' && booster !== 'dart') {
    throw new Error(`booster ${JSON.stringify(booster.slice(0, 40))} is not supported (only gbtree and dart)`);
  }
  const gp = r.take(GBTREE_PARAM_SIZE, 'the gbtree parameters');
  const numTrees = r.i32(gp);
  if (numTrees < 0 || numTrees > 1 << 24) throw new Error(`num_trees ${numTrees} is invalid`);
  const trees: XgbTree[] = [];
  for (let i = 0; i < numTrees; i++) trees.push(readTree(r, i));
  const treeInfo = new Int32Array(numTrees);
  const ti = r.take(4 * numTrees, 'tree_info');
  for (let i = 0; i < numTrees; i++) treeInfo[i] = r.i32(ti + 4 * i);
  let weightDrop: Float32Array | undefined;
  if (booster === 'dart' && numTrees > 0) {
    const n = r.u64('the dart weight_drop count');
    const at = r.take(4 * n, 'dart weight_drop');
    weightDrop = new Float32Array(n);
    for (let i = 0; i < n; i++) weightDrop[i] = r.f32(at + 4 * i);
  }
  if (containExtraAttrs !== 0) {
    const n = r.u64('the attribute count');
    for (let i = 0; i < n; i++) {
      r.string(`attribute ${i} name`);
      r.string(`attribute ${i} value`);
    }
  }
  return {
    objective,
    baseScore: [baseScore],
    // Before 1.0.0 base_score was saved already transformed to a margin (learner.cc LoadModel).
    baseScoreIsMargin: majorVersion < 1,
    numFeature,
    numClass,
    numTarget: Math.max(numTarget, 1),
    booster,
    trees,
    treeInfo,
    ...(weightDrop ? { weightDrop } : {}),
  };
}
