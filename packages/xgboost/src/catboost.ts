import type { OutputTransform, Tree, TreeEnsemble, TreeNode } from './tree-ensemble.js';

/**
 * Reader for CatBoost models saved with `save_model(path, format="json")` (catboost/libs/model/model_export/
 * json_model_helpers.cpp): oblivious trees over float features and one-hot categorical features.
 *
 * An oblivious tree of depth d applies the same split at every node of a level; split l gives bit l of the leaf
 * index (a float split is `x > border`, a one-hot split `category == value`), so leaf = Σ bit_l << l. The raw
 * value is `scale · Σ leaves + bias` (`scale_and_bias`). Categorical inputs are codes: the position of the
 * category in the feature's `values` list (its names are `string_values`, or `cat_features_hash` entries).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Upper bound on the depth of one oblivious tree (CatBoost allows 16). */
const MAX_DEPTH = 16;
/** Upper bound on converted nodes in the whole model. */
const MAX_NODES = 5_000_000;

/** What a CatBoost loss function gives `predict()` and whether it classifies. */
const LOSSES: Readonly<Record<string, { transform: OutputTransform; kind: 'classifier' | 'regressor' }>> = {
  Logloss: { transform: { kind: 'sigmoid', scale: 1 }, kind: 'classifier' },
  CrossEntropy: { transform: { kind: 'sigmoid', scale: 1 }, kind: 'classifier' },
  MultiClass: { transform: { kind: 'softmax' }, kind: 'classifier' },
  MultiClassOneVsAll: { transform: { kind: 'sigmoid', scale: 1 }, kind: 'classifier' },
  RMSE: { transform: { kind: 'identity' }, kind: 'regressor' },
  MAE: { transform: { kind: 'identity' }, kind: 'regressor' },
  Quantile: { transform: { kind: 'identity' }, kind: 'regressor' },
  MAPE: { transform: { kind: 'identity' }, kind: 'regressor' },
  Huber: { transform: { kind: 'identity' }, kind: 'regressor' },
  Lq: { transform: { kind: 'identity' }, kind: 'regressor' },
  Expectile: { transform: { kind: 'identity' }, kind: 'regressor' },
  LogCosh: { transform: { kind: 'identity' }, kind: 'regressor' },
};

/** A CatBoost JSON model converted to a tree ensemble, with what serving it needs. */
export interface CatBoostModel {
  /** The trees (one per oblivious tree and output dimension). */
  ensemble: TreeEnsemble;
  /** Loss function name (`Logloss`, `MultiClass`, `RMSE`…), or `RawFormulaVal` when the file records none. */
  objective: string;
  /** Whether the loss classifies. */
  kind: 'classifier' | 'regressor';
  /** Number of classes (2 for Logloss), 0 for regressors. */
  numClass: number;
  /** Feature names by flat index, when every feature has one. */
  featureNames?: string[];
  /** For each categorical column (by flat index): the category names whose position is the code the graph takes. */
  categoryNames: (string[] | undefined)[];
  /** Flat indexes of the categorical columns. */
  categoricalColumns: number[];
}

/** True when the bytes look like a CatBoost JSON model (not an XGBoost one). */
export function looksLikeCatBoostJson(bytes: Uint8Array): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (
    buf.indexOf('"features_info"') >= 0 &&
    (buf.indexOf('"oblivious_trees"') >= 0 || buf.indexOf('"scale_and_bias"') >= 0) &&
    buf.indexOf('"learner"') < 0
  );
}

/** True when the bytes start like a CatBoost binary model (`.cbm`, a flatbuffer behind the "CBM1" magic). */
export function looksLikeCatBoostBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x43 && bytes[1] === 0x42 && bytes[2] === 0x4d && bytes[3] === 0x31;
}

function arr(o: Obj, key: string, where: string): Json[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new Error(`"${key}" in ${where} is missing or not an array`);
  return v;
}

function int(o: Obj, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new Error(`"${key}" in ${where} is missing or not a non-negative integer`);
  }
  return v;
}

function num(v: Json | undefined, where: string): number {
  if (typeof v !== 'number') throw new Error(`${where} is not a number`);
  return v;
}

/** Where each float / categorical feature sits in the input row, and the categorical code lists. */
interface FeatureLayout {
  numFeatures: number;
  floatFlat: Map<number, { flat: number; nanIsTrue: boolean }>;
  catFlat: Map<number, { flat: number; values: number[]; names: (string | undefined)[] }>;
  names: (string | undefined)[];
}

function readFeatures(info: Obj): FeatureLayout {
  const floatFlat: FeatureLayout['floatFlat'] = new Map();
  const catFlat: FeatureLayout['catFlat'] = new Map();
  const names: (string | undefined)[] = [];
  let numFeatures = 0;
  const used = new Set<number>();
  const place = (flat: number, name: Json | undefined, where: string) => {
    if (used.has(flat)) throw new Error(`${where}: flat_feature_index ${flat} is used twice`);
    if (flat >= 1_000_000) throw new Error(`${where}: flat_feature_index ${flat} is too large`);
    used.add(flat);
    numFeatures = Math.max(numFeatures, flat + 1);
    names[flat] = typeof name === 'string' && name !== '' ? name : '';
  };
  const floats = info.float_features === undefined ? [] : arr(info, 'float_features', 'features_info');
  floats.forEach((f, i) => {
    const where = `features_info.float_features[${i}]`;
    if (!isObj(f)) throw new Error(`${where} is not an object`);
    const flat = int(f, 'flat_feature_index', where);
    place(flat, f.feature_name ?? f.feature_id, where);
    floatFlat.set(int(f, 'feature_index', where), { flat, nanIsTrue: f.nan_value_treatment === 'AsTrue' });
  });
  const hashNames = new Map<number, string>();
  if (Array.isArray(info.cat_features_hash)) {
    for (const e of info.cat_features_hash) {
      if (isObj(e) && typeof e.hash === 'number' && typeof e.value === 'string') hashNames.set(e.hash | 0, e.value);
    }
  }
  const cats = info.categorical_features === undefined ? [] : arr(info, 'categorical_features', 'features_info');
  cats.forEach((f, i) => {
    const where = `features_info.categorical_features[${i}]`;
    if (!isObj(f)) throw new Error(`${where} is not an object`);
    const flat = int(f, 'flat_feature_index', where);
    place(flat, f.feature_name ?? f.feature_id, where);
    const values = (Array.isArray(f.values) ? f.values : []).map((v, k) => num(v, `${where}.values[${k}]`) | 0);
    const strings = Array.isArray(f.string_values) ? f.string_values : [];
    const valueNames = values.map((v, k) => {
      const s = strings[k];
      return typeof s === 'string' ? s : hashNames.get(v);
    });
    catFlat.set(int(f, 'feature_index', where), { flat, values, names: valueNames });
  });
  if (info.ctrs !== undefined && Array.isArray(info.ctrs) && info.ctrs.length > 0) {
    throw new Error(
      'the model uses CTR features (target statistics over categories), which need CatBoost itself; ' +
        'servekit converts float and one-hot categorical splits only (train with one_hot_max_size above the ' +
        'category count)',
    );
  }
  return { numFeatures, floatFlat, catFlat, names };
}

/** One level's split as a neutral node factory: bit 1 goes to `one`, bit 0 to `zero`. */
type LevelSplit = (zero: number, one: number) => TreeNode;

function readSplit(s: Json, layout: FeatureLayout, where: string): LevelSplit {
  if (!isObj(s)) throw new Error(`${where} is not an object`);
  const type = s.split_type;
  if (type === 'FloatFeature') {
    const k = int(s, 'float_feature_index', where);
    const f = layout.floatFlat.get(k);
    if (!f) throw new Error(`${where}: float feature ${k} is not in features_info.float_features`);
    const border = Math.fround(num(s.border, `${where}.border`));
    // bit = x > border, i.e. not (x <= border); NaN gives bit 1 only for nan_value_treatment AsTrue.
    return (zero, one) => ({
      kind: 'split',
      feature: f.flat,
      threshold: border,
      mode: 'BRANCH_LEQ',
      missingGoesYes: !f.nanIsTrue,
      yes: zero,
      no: one,
    });
  }
  if (type === 'OneHotFeature') {
    const k = int(s, 'cat_feature_index', where);
    const f = layout.catFlat.get(k);
    if (!f) throw new Error(`${where}: categorical feature ${k} is not in features_info.categorical_features`);
    const value = num(s.value, `${where}.value`) | 0;
    let code = f.values.indexOf(value);
    if (code < 0) {
      f.values.push(value);
      f.names.push(undefined);
      code = f.values.length - 1;
    }
    return (zero, one) => ({
      kind: 'categorical',
      feature: f.flat,
      categories: [code],
      missingGoesYes: false,
      yes: one,
      no: zero,
    });
  }
  if (type === 'OnlineCtr') {
    throw new Error(`${where} is a CTR split (target statistics over categories); servekit cannot evaluate it`);
  }
  throw new Error(`${where} has split_type ${JSON.stringify(type)}; expected FloatFeature or OneHotFeature`);
}

/** Expands one oblivious tree into a full binary tree for output dimension `dim`. */
function expand(levels: LevelSplit[], leaves: number[], dim: number, dims: number, budget: { left: number }): Tree {
  const nodes: TreeNode[] = [];
  const build = (level: number, index: number): number => {
    if (--budget.left < 0) throw new Error(`the model has more than ${MAX_NODES} nodes once expanded`);
    const id = nodes.length;
    if (level === levels.length) {
      nodes.push({ kind: 'leaf', value: Math.fround(leaves[index * dims + dim]!) });
      return id;
    }
    nodes.push({ kind: 'leaf', value: 0 }); // placeholder, so that the root is node 0
    const zero = build(level + 1, index);
    const one = build(level + 1, index | (1 << level));
    nodes[id] = levels[level]!(zero, one);
    return id;
  };
  build(0, 0);
  return { nodes, target: dim };
}

/** The loss function name recorded in `model_info.params.loss_function.type`, if any. */
function lossName(doc: Obj): string | undefined {
  const info = doc.model_info;
  const params = isObj(info) ? info.params : undefined;
  const loss = isObj(params) ? params.loss_function : undefined;
  return isObj(loss) && typeof loss.type === 'string' ? loss.type : undefined;
}

/** Parses a CatBoost JSON model (the text of `model.json`) into a tree ensemble equal to `CatBoost.predict()`. */
export function parseCatBoostJson(text: string): CatBoostModel {
  return parseCatBoostDocument(JSON.parse(text) as Json);
}

/** A CatBoost JSON document (parsed `model.json`, or a `.cbm` read into that layout) as a tree ensemble. */
export function parseCatBoostDocument(doc: Json): CatBoostModel {
  if (!isObj(doc)) throw new Error('the document is not an object');
  if (doc.trees !== undefined && doc.oblivious_trees === undefined) {
    throw new Error(
      'the model has non-symmetric trees (grow_policy Depthwise or Lossguide); servekit converts oblivious ' +
        '(SymmetricTree) models only',
    );
  }
  const info = doc.features_info;
  if (!isObj(info)) throw new Error('"features_info" is missing or not an object');
  const layout = readFeatures(info);
  if (layout.numFeatures === 0) throw new Error('features_info lists no float or categorical features');
  const trees = arr(doc, 'oblivious_trees', 'the model');
  let dims = 0;
  const parsed = trees.map((t, i) => {
    const where = `oblivious_trees[${i}]`;
    if (!isObj(t)) throw new Error(`${where} is not an object`);
    const splits = arr(t, 'splits', where);
    if (splits.length > MAX_DEPTH) throw new Error(`${where} has depth ${splits.length}, over ${MAX_DEPTH}`);
    const leaves = arr(t, 'leaf_values', where).map((v, k) => num(v, `${where}.leaf_values[${k}]`));
    const size = 2 ** splits.length;
    const d = leaves.length / size;
    if (!(Number.isInteger(d) && d >= 1) || (dims !== 0 && d !== dims)) {
      throw new Error(`${where} has ${leaves.length} leaf values for depth ${splits.length} (expected ${size}·dims)`);
    }
    dims = d;
    return { levels: splits.map((s, l) => readSplit(s, layout, `${where}.splits[${l}]`)), leaves };
  });
  dims = Math.max(dims, 1);
  const budget = { left: MAX_NODES };
  const out: Tree[] = [];
  for (const t of parsed) for (let k = 0; k < dims; k++) out.push(expand(t.levels, t.leaves, k, dims, budget));

  let scale = 1;
  let bias: number[] = [];
  if (doc.scale_and_bias !== undefined) {
    const sb = doc.scale_and_bias;
    if (!Array.isArray(sb) || sb.length !== 2 || !Array.isArray(sb[1])) {
      throw new Error('"scale_and_bias" is not [scale, [bias…]]');
    }
    scale = num(sb[0], 'scale_and_bias[0]');
    bias = sb[1].map((b, k) => num(b, `scale_and_bias[1][${k}]`));
  }
  if (bias.length > 1 && bias.length !== dims) throw new Error(`${bias.length} bias values for ${dims} outputs`);
  const baseValues = Array.from({ length: dims }, (_, k) => bias[bias.length === 1 ? 0 : k] ?? 0);

  const loss = lossName(doc);
  const known =
    loss === undefined ? { transform: { kind: 'identity' } as const, kind: 'regressor' as const } : LOSSES[loss];
  if (!known) {
    throw new Error(
      `loss function ${JSON.stringify(loss)} is not supported; supported: ${Object.keys(LOSSES).join(', ')}`,
    );
  }
  if (loss?.startsWith('MultiClass') && dims < 2) throw new Error(`${loss} model with ${dims} output`);
  const categoricalColumns = [...layout.catFlat.values()].map((c) => c.flat).sort((a, b) => a - b);
  const categoryNames: (string[] | undefined)[] = new Array(layout.numFeatures).fill(undefined);
  for (const c of layout.catFlat.values()) {
    if (c.names.length > 0 && c.names.every((n) => n !== undefined)) categoryNames[c.flat] = c.names as string[];
  }
  const names = Array.from({ length: layout.numFeatures }, (_, i) => layout.names[i] ?? '');
  return {
    ensemble: {
      numFeatures: layout.numFeatures,
      numTargets: dims,
      baseValues,
      trees: out,
      transform: known.transform,
      ...(scale !== 1 ? { treeScale: scale } : {}),
      categoryRounding: 'none',
    },
    objective: loss ?? 'RawFormulaVal',
    kind: known.kind,
    numClass: known.kind === 'classifier' ? Math.max(dims, 2) : 0,
    ...(names.every((n) => n !== '') && new Set(names).size === names.length ? { featureNames: names } : {}),
    categoryNames,
    categoricalColumns,
  };
}
