import type { OutputTransform, Tree, TreeEnsemble, TreeNode } from './tree-ensemble.js';

/**
 * Reader for LightGBM's text model format (`Booster.save_model('model.txt')`, versions v2–v4), converted so that
 * float32 inputs take exactly LightGBM's branches: LightGBM compares `double(x) <= threshold` (double);
 * for a float32 x that equals `x <= largest float32 not above threshold`, which is what the ONNX node gets.
 */

/** LightGBM's kZeroThreshold (1e-35f): |x| <= this counts as zero for `missing_type = Zero`. */
const ZERO_THRESHOLD = Math.fround(1e-35);
/** Upper bound on converted nodes (zero-as-missing splits duplicate subtrees). */
const MAX_NODES = 5_000_000;

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** The largest float32 value that is <= t (so that, for float32 x, `x <= result` iff `x <= t`). */
export function float32AtOrBelow(t: number): number {
  if (Number.isNaN(t)) return t;
  const f = Math.fround(t);
  if (f <= t) return f;
  // f > t: step one float32 toward -Infinity.
  f32buf[0] = f;
  if (f === 0) return -Math.fround(1.401298464324817e-45);
  u32buf[0] = f > 0 ? u32buf[0]! - 1 : u32buf[0]! + 1;
  return f32buf[0]!;
}

/** What the LightGBM model header says. */
export interface LightGBMHeader {
  /** `num_class`. */
  numClass: number;
  /** `num_tree_per_iteration` (K for multiclass, else 1). */
  numTreePerIteration: number;
  /** `max_feature_idx + 1`. */
  numFeatures: number;
  /** Objective line, e.g. `binary sigmoid:1`; empty for a custom objective. */
  objective: string;
  /** Whether `average_output` is set (random-forest mode). */
  averageOutput: boolean;
  /** Feature names. */
  featureNames?: string[];
  /** Category names of the categorical columns (from the `pandas_categorical:` line), by column index. */
  categoryNames?: (string[] | undefined)[];
}

/** A parsed LightGBM tree in LightGBM's own arrays. */
interface LgbTree {
  numLeaves: number;
  splitFeature: number[];
  threshold: number[];
  decisionType: number[];
  leftChild: number[];
  rightChild: number[];
  leafValue: number[];
  /** Categorical splits: category set `k` is the bitset `catThreshold[catBoundaries[k] .. catBoundaries[k+1]]`. */
  catBoundaries: number[];
  /** 32-bit words of the category bitsets (bit `c % 32` of word `c / 32` set: category c goes left). */
  catThreshold: number[];
}

function parseNumbers(block: Map<string, string>, key: string, where: string, count: number): number[] {
  const s = block.get(key);
  if (s === undefined) throw new Error(`${where}: missing ${key}=`);
  const parts = s.trim() === '' ? [] : s.trim().split(/\s+/);
  if (parts.length !== count) throw new Error(`${where}: ${key} has ${parts.length} values, expected ${count}`);
  return parts.map((p, i) => {
    const v = Number(p);
    if (Number.isNaN(v) && p !== 'nan')
      throw new Error(`${where}: ${key}[${i}] = ${JSON.stringify(p)} is not a number`);
    return v;
  });
}

function intHeader(h: Map<string, string>, key: string, fallback?: number): number {
  const s = h.get(key);
  if (s === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`header: missing ${key}=`);
  }
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`header: ${key}=${s} is not a count`);
  return n;
}

/** Splits `key=value` lines (and bare flags like `average_output`) of one block into a map. */
function keyValues(lines: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq < 0) {
      if (line.trim()) m.set(line.trim(), '');
    } else m.set(line.slice(0, eq).trim(), line.slice(eq + 1));
  }
  return m;
}

function parseTree(block: Map<string, string>, index: number): LgbTree {
  const where = `Tree=${index}`;
  const numLeaves = Number(block.get('num_leaves'));
  if (!Number.isInteger(numLeaves) || numLeaves < 1) throw new Error(`${where}: num_leaves is missing or invalid`);
  const numCat = Number(block.get('num_cat') ?? '0');
  if (!Number.isInteger(numCat) || numCat < 0) throw new Error(`${where}: num_cat is invalid`);
  if (block.get('is_linear') !== undefined && block.get('is_linear')!.trim() !== '0') {
    throw new Error(`${where} is a linear tree (linear_tree=true); not supported`);
  }
  const leafValue = parseNumbers(block, 'leaf_value', where, numLeaves);
  if (numLeaves === 1) {
    const none: number[] = [];
    return {
      numLeaves,
      splitFeature: none,
      threshold: none,
      decisionType: none,
      leftChild: none,
      rightChild: none,
      leafValue,
      catBoundaries: none,
      catThreshold: none,
    };
  }
  const n = numLeaves - 1;
  const catBoundaries = numCat > 0 ? parseNumbers(block, 'cat_boundaries', where, numCat + 1) : [];
  const words = catBoundaries[numCat] ?? 0;
  if (!catBoundaries.every((b, i) => Number.isInteger(b) && b >= (catBoundaries[i - 1] ?? 0) && b <= 1e7)) {
    throw new Error(`${where}: cat_boundaries is not an increasing list of offsets`);
  }
  const catThreshold = numCat > 0 ? parseNumbers(block, 'cat_threshold', where, words) : [];
  return {
    catBoundaries,
    catThreshold,
    numLeaves,
    splitFeature: parseNumbers(block, 'split_feature', where, n),
    threshold: parseNumbers(block, 'threshold', where, n),
    decisionType: parseNumbers(block, 'decision_type', where, n),
    leftChild: parseNumbers(block, 'left_child', where, n),
    rightChild: parseNumbers(block, 'right_child', where, n),
    leafValue,
  };
}

/** The categories (bits set) of category set `catIdx` of a tree. */
function categorySet(t: LgbTree, catIdx: number, where: string): number[] {
  if (!(Number.isInteger(catIdx) && catIdx >= 0 && catIdx + 1 < t.catBoundaries.length)) {
    throw new Error(
      `${where}: category set ${catIdx} does not exist (num_cat=${Math.max(0, t.catBoundaries.length - 1)})`,
    );
  }
  const cats: number[] = [];
  for (let w = t.catBoundaries[catIdx]!; w < t.catBoundaries[catIdx + 1]!; w++) {
    const word = t.catThreshold[w]!;
    if (!(Number.isInteger(word) && word >= 0 && word <= 0xffffffff)) {
      throw new Error(`${where}: cat_threshold[${w}] = ${word} is not a 32-bit word`);
    }
    const base = (w - t.catBoundaries[catIdx]!) * 32;
    for (let b = 0; b < 32; b++) if ((word >>> b) & 1) cats.push(base + b);
  }
  return cats;
}

/**
 * Converts one LightGBM tree, emulating its missing-value rules with ONNX nodes. A categorical split follows
 * LightGBM's Tree::CategoricalDecision: the value truncated toward zero goes left when its bit is set in the
 * node's bitset; NaN, negative and unlisted values go right.
 */
function convertTree(t: LgbTree, index: number, target: number, numFeatures: number): Tree {
  const nodes: TreeNode[] = [];
  const where = `Tree=${index}`;
  const push = (node: TreeNode): number => {
    if (nodes.length >= MAX_NODES) throw new Error(`${where}: more than ${MAX_NODES} nodes after conversion`);
    nodes.push(node);
    return nodes.length - 1;
  };
  // Placeholder-then-fill so that the root lands at index 0.
  const split = (feature: number, threshold: number, mode: 'BRANCH_LT' | 'BRANCH_LEQ', missingGoesYes: boolean) => {
    const id = push({ kind: 'split', feature, threshold, mode, missingGoesYes, yes: -1, no: -1 });
    return { id, node: nodes[id] as Extract<TreeNode, { kind: 'split' }> };
  };
  const visiting = new Set<number>();
  const build = (child: number): number => {
    if (child < 0) {
      const leaf = ~child;
      if (leaf >= t.numLeaves) throw new Error(`${where}: leaf ${leaf} out of range (num_leaves=${t.numLeaves})`);
      return push({ kind: 'leaf', value: Math.fround(t.leafValue[leaf]!) });
    }
    if (child >= t.numLeaves - 1) throw new Error(`${where}: node ${child} out of range`);
    if (visiting.has(child)) throw new Error(`${where}: node ${child} is its own ancestor (corrupt tree)`);
    visiting.add(child);
    const dt = t.decisionType[child]!;
    const feature = t.splitFeature[child]!;
    if (!(Number.isInteger(feature) && feature >= 0 && feature < numFeatures)) {
      throw new Error(`${where}: node ${child} splits on feature ${feature}, but the model has ${numFeatures}`);
    }
    const defaultLeft = (dt & 2) !== 0;
    const missingType = (dt >> 2) & 3; // 0 none, 1 zero, 2 NaN
    if (dt & 1) {
      const categories = categorySet(t, t.threshold[child]!, `${where} node ${child}`);
      const id = push({ kind: 'categorical', feature, categories, missingGoesYes: false, yes: -1, no: -1 });
      const node = nodes[id] as Extract<TreeNode, { kind: 'categorical' }>;
      node.yes = build(t.leftChild[child]!);
      node.no = build(t.rightChild[child]!);
      visiting.delete(child);
      return id;
    }
    const thr = t.threshold[child]!;
    const thr32 = float32AtOrBelow(thr);
    const l = t.leftChild[child]!;
    const r = t.rightChild[child]!;
    let id: number;
    const plain = (missingGoesYes: boolean): number => {
      const s = split(feature, thr32, 'BRANCH_LEQ', missingGoesYes);
      s.node.yes = build(l);
      s.node.no = build(r);
      return s.id;
    };
    if (missingType === 2) {
      id = plain(defaultLeft);
    } else if (missingType === 0) {
      // LightGBM turns NaN into 0 and compares it.
      id = plain(0 <= thr);
    } else if (thr >= ZERO_THRESHOLD && defaultLeft) {
      id = plain(true); // zero and NaN go left, as a normal comparison of zero would
    } else if (thr < -ZERO_THRESHOLD && !defaultLeft) {
      id = plain(false); // zero and NaN go right, as a normal comparison of zero would
    } else {
      // x < -z → normal comparison; -z <= x <= z or NaN → default side; x > z → normal comparison.
      const a = split(feature, -ZERO_THRESHOLD, 'BRANCH_LT', false);
      a.node.yes = thr < -ZERO_THRESHOLD ? plain(false) : build(l);
      const b = split(feature, ZERO_THRESHOLD, 'BRANCH_LEQ', true);
      a.node.no = b.id;
      b.node.yes = build(defaultLeft ? l : r);
      b.node.no = thr >= ZERO_THRESHOLD ? plain(false) : build(r);
      id = a.id;
    }
    visiting.delete(child);
    return id;
  };
  const root = t.numLeaves === 1 ? build(~0) : build(0);
  if (root !== 0) throw new Error(`${where}: internal error, root at ${root}`);
  return { nodes, target };
}

/** LightGBM's ObjectiveFunction::ConvertOutput for the objective line. */
function transformFor(objective: string): { transform: OutputTransform; kind: 'classifier' | 'regressor' } {
  const [name = '', ...opts] = objective.trim().split(/\s+/);
  const opt = (key: string): string | undefined =>
    opts.find((o) => o.startsWith(`${key}:`))?.slice(key.length + 1) ?? (opts.includes(key) ? '' : undefined);
  const sigmoid = Number(opt('sigmoid') ?? '1');
  switch (name) {
    case '':
    case 'custom':
    case 'none':
    case 'lambdarank':
    case 'rank_xendcg':
      return { transform: { kind: 'identity' }, kind: 'regressor' };
    case 'regression':
    case 'regression_l1':
    case 'huber':
    case 'fair':
    case 'quantile':
    case 'mape':
      return {
        transform: opt('sqrt') !== undefined ? { kind: 'signed-square' } : { kind: 'identity' },
        kind: 'regressor',
      };
    case 'poisson':
    case 'gamma':
    case 'tweedie':
      return { transform: { kind: 'exp' }, kind: 'regressor' };
    case 'binary':
      return { transform: { kind: 'sigmoid', scale: sigmoid }, kind: 'classifier' };
    case 'multiclass':
      return { transform: { kind: 'softmax' }, kind: 'classifier' };
    case 'multiclassova':
      return { transform: { kind: 'sigmoid', scale: sigmoid }, kind: 'classifier' };
    case 'cross_entropy':
      return { transform: { kind: 'sigmoid', scale: 1 }, kind: 'regressor' };
    case 'cross_entropy_lambda':
      return { transform: { kind: 'softplus' }, kind: 'regressor' };
    default:
      throw new Error(`objective ${JSON.stringify(name)} is not supported`);
  }
}

/**
 * The category names that LightGBM's Python package stores for a pandas DataFrame (`pandas_categorical:[[…],…]`,
 * one list per categorical column in column order; the code of a category is its position). The categorical
 * columns are those whose `feature_infos` entry is a list of categories (`-1:9:0:2`) rather than a `[min:max]`
 * range. Unusable or absent lines give undefined.
 */
function pandasCategories(
  tail: string[],
  featureInfos: string | undefined,
  numFeatures: number,
): (string[] | undefined)[] | undefined {
  const line = tail.find((l) => l.startsWith('pandas_categorical:'));
  if (!line || !featureInfos) return undefined;
  let lists: unknown;
  try {
    lists = JSON.parse(line.slice('pandas_categorical:'.length));
  } catch {
    return undefined;
  }
  const infos = featureInfos.trim().split(/\s+/);
  const columns = infos.flatMap((info, col) => (info.startsWith('[') || info === 'none' ? [] : [col]));
  if (!Array.isArray(lists) || lists.length !== columns.length || infos.length !== numFeatures) return undefined;
  const names: (string[] | undefined)[] = new Array(numFeatures).fill(undefined);
  columns.forEach((col, k) => {
    const list = lists[k];
    if (Array.isArray(list)) names[col] = list.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  });
  return names;
}

/** True when the bytes look like a LightGBM text model (first line `tree`, then `version=`). */
export function looksLikeLightGBMText(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).replace(/^\uFEFF/, '');
  return /^tree\r?\n/.test(head);
}

/** Parses a LightGBM text model into a tree ensemble equal to `Booster.predict()` (and `raw_score=True`). */
export function parseLightGBMText(text: string): {
  ensemble: TreeEnsemble;
  header: LightGBMHeader;
  kind: 'classifier' | 'regressor';
} {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== 'tree') throw new Error('not a LightGBM text model (the first line is not "tree")');
  // Blocks: header until the first "Tree=", then one block per tree until "end of trees".
  let i = 1;
  const headerLines: string[] = [];
  while (i < lines.length && !lines[i]!.startsWith('Tree=')) {
    if (lines[i]!.startsWith('end of trees')) break;
    headerLines.push(lines[i]!);
    i++;
  }
  const h = keyValues(headerLines);
  if (!h.has('version')) throw new Error('header: missing version= (not a LightGBM text model?)');
  const numClass = intHeader(h, 'num_class', 1);
  const numTreePerIteration = intHeader(h, 'num_tree_per_iteration', numClass);
  const numFeatures = intHeader(h, 'max_feature_idx') + 1;
  const objective = h.get('objective') ?? '';
  const names = h.get('feature_names')?.trim().split(/\s+/);
  const header: LightGBMHeader = {
    numClass,
    numTreePerIteration: Math.max(numTreePerIteration, 1),
    numFeatures,
    objective,
    averageOutput: h.has('average_output'),
    ...(names && names.length === numFeatures ? { featureNames: names } : {}),
  };
  const { transform, kind } = transformFor(objective);
  const expected = h.get('tree_sizes')?.trim().split(/\s+/).length;
  const trees: Tree[] = [];
  let ended = false;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.startsWith('end of trees')) {
      ended = true;
      break;
    }
    if (!line.startsWith('Tree=')) {
      i++;
      continue;
    }
    const index = Number(line.slice(5));
    if (index !== trees.length) throw new Error(`expected Tree=${trees.length}, found ${JSON.stringify(line)}`);
    const block: string[] = [];
    i++;
    while (i < lines.length && lines[i]!.trim() !== '' && !lines[i]!.startsWith('Tree=')) block.push(lines[i++]!);
    const tree = parseTree(keyValues(block), index);
    trees.push(convertTree(tree, index, index % header.numTreePerIteration, numFeatures));
  }
  if (!ended) throw new Error(`truncated: no "end of trees" line after ${trees.length} tree(s)`);
  const categoryNames = pandasCategories(lines.slice(i), h.get('feature_infos'), numFeatures);
  if (categoryNames) header.categoryNames = categoryNames;
  if (expected !== undefined && expected !== trees.length) {
    throw new Error(`tree_sizes lists ${expected} trees but ${trees.length} are present (truncated file?)`);
  }
  const iterations = Math.max(1, Math.floor(trees.length / header.numTreePerIteration));
  const ensemble: TreeEnsemble = {
    numFeatures,
    numTargets: header.numTreePerIteration,
    baseValues: new Array(header.numTreePerIteration).fill(0),
    trees,
    transform,
    categoryRounding: 'trunc',
    ...(header.averageOutput ? { treeScale: 1 / iterations } : {}),
  };
  return { ensemble, header, kind };
}
