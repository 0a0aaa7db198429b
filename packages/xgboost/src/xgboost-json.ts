import type { UbjValue } from './ubjson.js';
import { xgbCategoryNames } from './xgboost-categories.js';
import type { XgbModel, XgbTree } from './xgboost-model.js';

type Obj = { [key: string]: UbjValue };

function isObj(v: UbjValue | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(o: Obj, key: string, where: string): UbjValue {
  const v = o[key];
  if (v === undefined) throw new Error(`missing "${key}" in ${where}`);
  return v;
}

function obj(o: Obj, key: string, where: string): Obj {
  const v = field(o, key, where);
  if (!isObj(v)) throw new Error(`"${key}" in ${where} is not an object`);
  return v;
}

function str(o: Obj, key: string, where: string): string {
  const v = field(o, key, where);
  if (typeof v !== 'string') throw new Error(`"${key}" in ${where} is not a string`);
  return v;
}

function numArray(o: Obj, key: string, where: string): number[] {
  const v = field(o, key, where);
  if (!Array.isArray(v)) throw new Error(`"${key}" in ${where} is not an array`);
  return v.map((x, i) => {
    if (typeof x === 'number') return x;
    if (typeof x === 'boolean') return x ? 1 : 0;
    if (typeof x === 'bigint') return Number(x);
    throw new Error(`${where}.${key}[${i}] is not a number`);
  });
}

/** Parses an XGBoost integer-valued parameter string such as `"3"`. */
function intParam(o: Obj, key: string, where: string, fallback?: number): number {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  const s = v === undefined ? '' : String(v);
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`"${key}" in ${where} is ${JSON.stringify(s)}, not a count`);
  return n;
}

/** Parses `base_score`: `"5E-1"` (XGBoost ≤ 2.0) or `"[5E-1]"` / `"[a,b,c]"` (newer, possibly per output). */
export function parseBaseScore(v: UbjValue | undefined): number[] {
  if (typeof v === 'number') return [v];
  if (typeof v !== 'string') throw new Error('learner_model_param.base_score is missing or not a string');
  const s = v.trim().replace(/^\[/, '').replace(/\]$/, '');
  const parts = s.split(',').map((p) => Number(p.trim()));
  if (parts.length === 0 || parts.some((p) => !Number.isFinite(p))) {
    throw new Error(`learner_model_param.base_score ${JSON.stringify(v)} is not a number`);
  }
  return parts;
}

/**
 * Parses JSON text the way XGBoost writes it, accepting the bare `NaN` / `Infinity` / `-Infinity` tokens that
 * XGBoost's writer can emit for non-finite floats (standard JSON.parse rejects them).
 */
export function parseXgbJsonText(text: string): UbjValue {
  try {
    return JSON.parse(text) as UbjValue;
  } catch (first) {
    if (!/NaN|Infinity/.test(text)) throw first;
    // Rewrite non-finite tokens outside strings into sentinel strings, then map them back.
    let out = '';
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (inString) {
        out += c;
        if (c === '\\') out += text[++i] ?? '';
        else if (c === '"') inString = false;
      } else if (c === '"') {
        inString = true;
        out += c;
      } else if (text.startsWith('NaN', i)) {
        out += '"\\u0000NaN"';
        i += 2;
      } else if (text.startsWith('-Infinity', i)) {
        out += '"\\u0000-Inf"';
        i += 8;
      } else if (text.startsWith('Infinity', i)) {
        out += '"\\u0000Inf"';
        i += 7;
      } else out += c;
    }
    const special: Record<string, number> = { '\u0000NaN': Number.NaN, '\u0000-Inf': -Infinity, '\u0000Inf': Infinity };
    return JSON.parse(out, (_k, value: unknown) =>
      typeof value === 'string' && value in special ? special[value] : value,
    ) as UbjValue;
  }
}

function parseTree(t: UbjValue, i: number): XgbTree {
  const where = `trees[${i}]`;
  if (!isObj(t)) throw new Error(`${where} is not an object`);
  const param = t.tree_param;
  if (isObj(param) && param.size_leaf_vector !== undefined && Number(param.size_leaf_vector) > 1) {
    throw new Error(`${where} is a multi-output (vector-leaf) tree; servekit converts scalar-leaf trees only`);
  }
  const splitType = t.split_type === undefined ? undefined : numArray(t, 'split_type', where);
  const nodeCategories = splitType?.includes(1) ? categoriesByNode(t, where) : undefined;
  return {
    left: numArray(t, 'left_children', where),
    right: numArray(t, 'right_children', where),
    splitIndex: numArray(t, 'split_indices', where),
    splitCondition: numArray(t, 'split_conditions', where),
    defaultLeft: numArray(t, 'default_left', where),
    ...(splitType ? { splitType } : {}),
    ...(nodeCategories ? { nodeCategories } : {}),
  };
}

/**
 * The category set of each categorical split node, from `categories` (all sets, concatenated) sliced by
 * `categories_segments` / `categories_sizes` for the nodes in `categories_nodes`.
 */
function categoriesByNode(t: Obj, where: string): Map<number, number[]> {
  const cats = numArray(t, 'categories', where);
  const nodes = numArray(t, 'categories_nodes', where);
  const segments = numArray(t, 'categories_segments', where);
  const sizes = numArray(t, 'categories_sizes', where);
  if (segments.length !== nodes.length || sizes.length !== nodes.length) {
    throw new Error(
      `${where}: categories_nodes, categories_segments and categories_sizes have ${nodes.length}, ` +
        `${segments.length} and ${sizes.length} entries`,
    );
  }
  const byNode = new Map<number, number[]>();
  nodes.forEach((node, k) => {
    const start = segments[k]!;
    const size = sizes[k]!;
    if (
      !(Number.isInteger(start) && Number.isInteger(size) && start >= 0 && size >= 0 && start + size <= cats.length)
    ) {
      throw new Error(`${where}: the categories of node ${node} (${start}..+${size}) lie outside categories[]`);
    }
    byNode.set(node, cats.slice(start, start + size));
  });
  return byNode;
}

/** Reads the booster out of an XGBoost model document (the parsed model.json, or the decoded model.ubj). */
export function xgbModelFromDocument(doc: UbjValue): XgbModel {
  if (!isObj(doc)) throw new Error('the document is not an object');
  if (doc.learner === undefined && isObj(doc.Model)) doc = doc.Model; // a Booster.save_raw('json') snapshot
  const learner = obj(doc as Obj, 'learner', 'the model document');
  const mparam = obj(learner, 'learner_model_param', 'learner');
  const objective = str(obj(learner, 'objective', 'learner'), 'name', 'learner.objective');
  const gb = obj(learner, 'gradient_booster', 'learner');
  const booster = str(gb, 'name', 'learner.gradient_booster');
  if (booster !== 'gbtree' && booster !== 'dart') {
    throw new Error(`booster ${JSON.stringify(booster)} is not supported (only gbtree and dart tree models)`);
  }
  // dart nests the gbtree: {"name":"dart","gbtree":{"name":"gbtree","model":{...}},"weight_drop":[...]}.
  const model =
    booster === 'dart'
      ? obj(obj(gb, 'gbtree', 'the dart booster'), 'model', 'the dart booster gbtree')
      : obj(gb, 'model', 'learner.gradient_booster');
  const trees = field(model, 'trees', 'gradient_booster.model');
  if (!Array.isArray(trees)) throw new Error('gradient_booster.model.trees is not an array');
  const gbParam = isObj(model.gbtree_model_param) ? model.gbtree_model_param : undefined;
  if (gbParam?.num_trees !== undefined && Number(gbParam.num_trees) !== trees.length) {
    throw new Error(
      `gbtree_model_param.num_trees is ${String(gbParam.num_trees)} but ${trees.length} trees are stored`,
    );
  }
  // Trees carry their position in "id"; XGBoost places each at trees[id].
  const ordered: XgbTree[] = new Array(trees.length);
  trees.forEach((t, i) => {
    const id = isObj(t) && typeof t.id === 'number' ? t.id : i;
    if (!(Number.isInteger(id) && id >= 0 && id < trees.length) || ordered[id]) {
      throw new Error(`trees[${i}] has id ${String(id)}, which is out of range or repeated`);
    }
    ordered[id] = parseTree(t, i);
  });
  const names = learner.feature_names;
  const featureNames =
    Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string')
      ? (names as string[])
      : undefined;
  const numFeature = intParam(mparam, 'num_feature', 'learner_model_param');
  const categoryNames = xgbCategoryNames(model, numFeature);
  return {
    objective,
    baseScore: parseBaseScore(mparam.base_score),
    baseScoreIsMargin: false,
    numFeature,
    numClass: intParam(mparam, 'num_class', 'learner_model_param', 0),
    numTarget: intParam(mparam, 'num_target', 'learner_model_param', 1),
    booster,
    trees: ordered,
    treeInfo: numArray(model, 'tree_info', 'gradient_booster.model'),
    ...(booster === 'dart' ? { weightDrop: numArray(gb, 'weight_drop', 'dart booster') } : {}),
    ...(featureNames ? { featureNames } : {}),
    ...(categoryNames ? { categoryNames } : {}),
  };
}
