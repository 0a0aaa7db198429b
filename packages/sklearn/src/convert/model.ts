/** Converts an unpickled estimator (or Pipeline) into one ONNX graph plus a description of its inputs and outputs. */

import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject, PyValue } from '../pickle/py-types.js';
import { isNdArray, isPyDict, isPyObject } from '../pickle/py-types.js';
import { type ColumnSource, columnTransformer, pipelineSteps, selectsByName } from './compose.js';
import {
  ConvertContext,
  type ElemType,
  type MethodOutputs,
  SKLEARN_METHODS,
  type SklearnMethod,
  type Var,
} from './context.js';
import { type FeatureHasherSpec, featureHasherSpec } from './feature-hasher.js';
import { unfreeze } from './frozen.js';
import { fittedOnStrings } from './preprocessing.js';
import {
  applyClassifier,
  applyOther,
  applyRegressor,
  applyTransformer,
  extraMethods,
  roleOf,
  supportedEstimators,
} from './registry.js';
import { isSearchCv, searchBestEstimator } from './search-cv.js';
import { arr, get, labels, list, obj } from './state.js';
import {
  hashingNorm,
  hashingVectorizerSpec,
  type TextVectorizerSpec,
  textVectorizerSpec,
  tfidfTransformer,
} from './text.js';

/** One graph input column for ColumnTransformer front ends. */
export interface ColumnInput {
  /** Column (and graph input) name. */
  name: string;
  /** DOUBLE for numbers (null → NaN), STRING for categories (null → ''). */
  type: 'DOUBLE' | 'STRING';
}

/** How requests map onto the graph's inputs. */
export type GraphInputs =
  | {
      kind: 'matrix';
      name: string;
      nFeatures: number;
      type: 'DOUBLE' | 'STRING';
      /** feature_names_in_ of the first step (fitted on a DataFrame): lets V1 rows be `{name: value}` dicts. */
      featureNames?: string[];
    }
  | { kind: 'columns'; columns: ColumnInput[] }
  | {
      kind: 'text';
      name: string;
      /** The CountVectorizer / TfidfVectorizer analyzer (run in TypeScript) and its vocabulary. */
      spec: TextVectorizerSpec;
    }
  | {
      kind: 'hashed';
      name: string;
      /** The FeatureHasher front end (run in TypeScript, feature-hasher-encoder.ts). */
      spec: FeatureHasherSpec;
    }
  | {
      kind: 'dicts';
      name: string;
      featureNames: string[];
      vocabulary: Map<string, number>;
      separator: string;
      /** DictVectorizer(dtype=np.float32): values are rounded to float32 as sklearn does. */
      float32: boolean;
    };

/** One served method: its graph output, element type and columns per row. */
export interface ServedMethod {
  output: string;
  type: ElemType;
  cols: number;
  /** Further outputs of the method, by the name the response gives them (kneighbors: `indices`). */
  more?: { name: string; output: string; type: ElemType; cols: number }[];
}

/** The converted graph and what its inputs/outputs mean. */
export interface ConvertedGraph {
  onnx: Uint8Array;
  /** Class name of the final estimator (e.g. 'LogisticRegression'). */
  estimator: string;
  /** 'other': clusterers, outlier detectors and mixtures (see `methods`). */
  task: 'classifier' | 'regressor' | 'transformer' | 'other';
  inputs: GraphInputs;
  /** Graph output names. `label` and `probabilities` for classifiers; `variable` for regressors/transformers. */
  outputs: { label?: string; probabilities?: string; variable?: string };
  /** Class labels in their original type (classifiers). */
  classes?: (number | string)[];
  /** The scikit-learn methods the graph answers: the graph output of each, its element type and columns. */
  methods: Partial<Record<SklearnMethod, ServedMethod>>;
  /** A DOUBLE [N] graph output, 1 for rows scikit-learn raises for, and the reason (the request gets a 400). */
  rowRefusal?: { output: string; reason: string };
}

function names(v: PyValue | undefined): string[] | undefined {
  if (isNdArray(v) && Array.isArray(v.data)) return v.data.map(String);
  if (Array.isArray(v)) return v.map(String);
  return undefined;
}

function nFeaturesOf(est: PyObject): number {
  const n = get(est, 'n_features_in_');
  if (typeof n === 'number') return n;
  for (const key of ['coef_', 'support_vectors_', '_fit_X', 'mean_', 'scale_', 'statistics_']) {
    const a = get(est, key);
    if (isNdArray(a)) return a.shape[a.shape.length - 1]!;
  }
  if (est.name === 'Pipeline') return nFeaturesOf(pipelineSteps(est)[0]!);
  if (est.name === 'FeatureUnion') {
    const first = list(est, 'transformer_list').find((e) => Array.isArray(e) && isPyObject(e[1]));
    if (Array.isArray(first) && isPyObject(first[1])) return nFeaturesOf(first[1]);
  }
  if (est.name === 'OneHotEncoder' || est.name === 'OrdinalEncoder') return list(est, 'categories_').length;
  if (est.name === 'LabelEncoder' || est.name === 'IsotonicRegression' || est.name === 'LabelBinarizer') return 1;
  // meta-estimators whose n_features_in_ is a property of a member
  for (const key of ['estimator_', 'regressor_', 'estimator', 'base_estimator']) {
    const inner = get(est, key);
    if (isPyObject(inner)) return nFeaturesOf(inner);
  }
  for (const key of ['estimators_', 'calibrated_classifiers_']) {
    const v = get(est, key);
    const first = Array.isArray(v) ? v.find(isPyObject) : undefined;
    if (first) return nFeaturesOf(first);
  }
  throw new UnsupportedEstimatorError(`cannot tell how many input features ${est.name} takes (no n_features_in_)`);
}

/** Per-column graph inputs for a ColumnTransformer that selects columns by name. */
function columnInputs(ctx: ConvertContext, ct: PyObject, declared: ColumnInput[]): ColumnSource {
  const all = names(get(ct, 'feature_names_in_'));
  const vars = new Map<string, Var>();
  const source: ColumnSource = {
    width: all?.length ?? 0,
    ...(all ? { names: all } : {}),
    select(keys, wantStrings) {
      const parts = keys.map((k) => {
        const name = typeof k === 'number' ? all?.[k] : k;
        if (name === undefined)
          throw new UnsupportedEstimatorError(`ColumnTransformer column ${String(k)} has no name`);
        const type = wantStrings ? 'STRING' : 'DOUBLE';
        const seen = vars.get(name);
        if (seen) {
          if (seen.type !== type) {
            throw new UnsupportedEstimatorError(`column '${name}' is used both as numbers and as strings`);
          }
          return seen;
        }
        ctx.g.input(name, type, ['N', 1]);
        const v: Var = { name, type, cols: 1 };
        vars.set(name, v);
        declared.push({ name, type });
        return v;
      });
      return ctx.concat(parts);
    },
  };
  return source;
}

function classLabels(est: PyObject): (number | string)[] {
  const c = arr(est, 'classes_');
  if (c.shape.length !== 1) throw new UnsupportedEstimatorError(`multi-output ${est.name} is not supported`);
  return labels(c);
}

/** Meta-estimators that predict with one fitted member: the attribute holding it. */
const DELEGATES: Record<string, string> = {
  RANSACRegressor: 'estimator_',
};

/**
 * A final RFE/RFECV predicts with its estimator_ on the selected columns: [selector, estimator_]; RANSACRegressor
 * is its fitted member (its steps inlined).
 */
function withDelegates(given: PyObject[]): PyObject[] {
  // a search (GridSearchCV...) is its best_estimator_, a Pipeline's steps inlined
  const inline = (s: PyObject): PyObject[] =>
    isSearchCv(s) ? pipelineSteps(searchBestEstimator(s)).flatMap(inline) : [s];
  const steps = given.flatMap(inline);
  const tail = steps[steps.length - 1];
  const key = tail ? DELEGATES[tail.name] : undefined;
  if (tail && key) {
    const inner = get(tail, key);
    if (!isPyObject(inner)) throw new UnsupportedEstimatorError(`${tail.name} has no fitted ${key} (refit=False?)`);
    return withDelegates([...steps.slice(0, -1), ...pipelineSteps(inner)]);
  }
  const last = steps[steps.length - 1];
  if (last && (last.name === 'RFE' || last.name === 'RFECV')) {
    const inner = get(last, 'estimator_');
    if (isPyObject(inner)) return [...steps, inner];
  }
  return steps;
}

/** Convert the root object of a model file (an estimator or a Pipeline) to ONNX. */
export function convertEstimator(file: PyValue): ConvertedGraph {
  const root = unfreeze(file);
  if (!isPyObject(root)) {
    const what = isPyDict(root) ? 'a dict' : Array.isArray(root) ? 'a list/tuple' : typeof root;
    throw new UnsupportedEstimatorError(
      `the file holds ${what}, not a scikit-learn estimator. Supported: ${supportedEstimators().join(', ')}`,
    );
  }
  const ctx = new ConvertContext();
  const steps = withDelegates(pipelineSteps(root));
  const selector = steps[steps.length - 2];
  // a final RFE/RFECV also serves transform (its selected columns)
  const delegated =
    selector !== undefined &&
    (selector.name === 'RFE' || selector.name === 'RFECV') &&
    get(selector, 'estimator_') === steps[steps.length - 1];
  if (steps.length === 0) throw new UnsupportedEstimatorError('the Pipeline has no steps');
  const frontEnds = ['DictVectorizer', 'CountVectorizer', 'TfidfVectorizer', 'HashingVectorizer', 'FeatureHasher'];
  for (const [i, step] of steps.entries()) if (!(i === 0 && frontEnds.includes(step.name))) roleOf(step);
  let rest = steps;
  let inputs: GraphInputs;
  let x: Var;
  const first = steps[0]!;
  if (first.name === 'DictVectorizer') {
    const featureNames = list(first, 'feature_names_').map(String);
    const vocabRaw = get(first, 'vocabulary_');
    const vocabulary = new Map<string, number>();
    if (isPyDict(vocabRaw)) for (const [k, v] of vocabRaw) vocabulary.set(String(k), Number(v));
    else
      featureNames.forEach((n, i) => {
        vocabulary.set(n, i);
      });
    const sep = get(first, 'separator');
    const dtype = get(first, 'dtype');
    const float32 = typeof dtype === 'object' && dtype !== null && 'name' in dtype && dtype.name === 'float32';
    const separator = typeof sep === 'string' ? sep : '=';
    inputs = { kind: 'dicts', name: 'X', featureNames, vocabulary, separator, float32 };
    ctx.g.input('X', 'DOUBLE', ['N', featureNames.length]);
    x = { name: 'X', type: 'DOUBLE', cols: featureNames.length };
    rest = steps.slice(1);
  } else if (first.name === 'FeatureHasher') {
    const spec = featureHasherSpec(first);
    inputs = { kind: 'hashed', name: 'X', spec };
    ctx.g.input('X', 'DOUBLE', ['N', spec.nFeatures]);
    x = { name: 'X', type: 'DOUBLE', cols: spec.nFeatures };
    rest = steps.slice(1);
  } else if (frontEnds.slice(1).includes(first.name)) {
    const hashing = first.name === 'HashingVectorizer';
    const spec = hashing ? hashingVectorizerSpec(first) : textVectorizerSpec(first);
    const width = spec.hashing?.nFeatures ?? spec.vocabulary.size;
    inputs = { kind: 'text', name: 'X', spec };
    ctx.g.input('X', 'DOUBLE', ['N', width]);
    x = { name: 'X', type: 'DOUBLE', cols: width };
    if (first.name === 'TfidfVectorizer') x = tfidfTransformer(ctx, obj(first, '_tfidf'), x);
    if (hashing) x = hashingNorm(ctx, first, x);
    rest = steps.slice(1);
    if (rest.length === 0) return finish(ctx, first.name, 'transformer', inputs, { transform: x });
  } else if (first.name === 'ColumnTransformer' && selectsByName(first)) {
    const columns: ColumnInput[] = [];
    x = columnTransformer(ctx, first, columnInputs(ctx, first, columns));
    const order = names(get(first, 'feature_names_in_'));
    if (order) columns.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    inputs = { kind: 'columns', columns };
    rest = steps.slice(1);
  } else {
    const n = nFeaturesOf(first);
    const type = fittedOnStrings(first) ? 'STRING' : 'DOUBLE';
    ctx.g.input('X', type, ['N', n]);
    x = { name: 'X', type, cols: n };
    const featureNames = names(get(first, 'feature_names_in_'));
    inputs = { kind: 'matrix', name: 'X', nFeatures: n, type, ...(featureNames?.length === n ? { featureNames } : {}) };
  }
  if (rest.length === 0) return finish(ctx, first.name, 'transformer', inputs, { transform: x });
  for (const step of rest.slice(0, -1)) x = applyTransformer(ctx, step, x);
  const last = rest[rest.length - 1]!;
  const role = roleOf(last);
  if (role === 'transformer')
    return finish(ctx, last.name, 'transformer', inputs, {
      ...extraMethods(ctx, last, x),
      transform: applyTransformer(ctx, last, x),
    });
  if (role === 'regressor') {
    const y = applyRegressor(ctx, last, x);
    const extras = { ...extraMethods(ctx, last, x), ...(delegated ? { transform: x } : {}) };
    return finish(ctx, last.name, 'regressor', inputs, { ...extras, predict: y });
  }
  if (role === 'other') return finish(ctx, last.name, 'other', inputs, applyOther(ctx, last, x));
  const classes = classLabels(last);
  const out = applyClassifier(ctx, last, x);
  const all = out.extraLabel === undefined ? classes : [...classes, out.extraLabel];
  const stringLabels = all.some((c) => typeof c === 'string');
  const intLabels = !stringLabels && all.every((c) => Number.isInteger(c));
  const labelType = stringLabels ? 'STRING' : intLabels ? 'INT64' : 'DOUBLE';
  const classConst = ctx.const(labelType, [all.length], stringLabels ? all.map(String) : all.map(Number));
  const idx = ctx.op('Reshape', [out.labelIndex, ctx.constI([-1])]);
  const label = ctx.op('Gather', [classConst, idx], { axis: { kind: 'i', value: 0 } });
  const methods: MethodOutputs = {
    ...extraMethods(ctx, last, x),
    ...(delegated ? { transform: x } : {}),
    predict: { name: label, type: labelType, cols: 1 },
  };
  if (out.probabilities) methods.predict_proba = out.probabilities;
  if (out.decision) methods.decision_function = out.decision;
  return { ...finish(ctx, last.name, 'classifier', inputs, methods), classes };
}

/** The row-refusal flags of every estimator in the model as one graph output `refused_rows` [N] (1 = refused). */
function refusalOutput(ctx: ConvertContext): ConvertedGraph['rowRefusal'] {
  const all = ctx.rowRefusals;
  if (all.length === 0) return undefined;
  const output = 'refused_rows';
  const flags =
    all.length === 1
      ? all[0]!.name
      : ctx.op(
          'Max',
          all.map((r) => r.name),
        );
  ctx.g.node('Reshape', [flags, ctx.constI([-1])], [output]);
  ctx.g.output(output, 'DOUBLE', ['N']);
  return { output, reason: [...new Set(all.map((r) => r.reason))].join('; ') };
}

/** Graph output names per method (the first three keep the names servekit has always used). */
function outputName(task: ConvertedGraph['task'], method: SklearnMethod): string {
  if (method === 'predict') return task === 'classifier' || task === 'other' ? 'label' : 'variable';
  if (method === 'predict_proba') return 'probabilities';
  if (method === 'transform' && task === 'transformer') return 'variable';
  return method;
}

/** Declare one graph output per method and describe the graph. */
function finish(
  ctx: ConvertContext,
  estimator: string,
  task: ConvertedGraph['task'],
  inputs: GraphInputs,
  methods: MethodOutputs,
): ConvertedGraph {
  const served: ConvertedGraph['methods'] = {};
  const outputs: ConvertedGraph['outputs'] = {};
  for (const m of SKLEARN_METHODS) {
    const v = methods[m];
    if (!v) continue;
    if (m === 'kneighbors') {
      served[m] = kneighborsOutputs(ctx, v, methods.kneighborsIndices);
      continue;
    }
    const name = outputName(task, m);
    const out = v.type === 'FLOAT' ? ctx.cast(v, 'DOUBLE') : v;
    const vector = v.cols === 1 && (m !== 'transform' || task !== 'transformer');
    if (vector) ctx.g.node('Reshape', [out.name, ctx.constI([-1])], [name]);
    else ctx.g.node('Identity', [out.name], [name]);
    ctx.g.output(name, out.type, vector ? ['N'] : ['N', out.cols]);
    served[m] = { output: name, type: out.type, cols: out.cols };
    if (name === 'label' || name === 'probabilities' || name === 'variable') outputs[name] = name;
  }
  const rowRefusal = refusalOutput(ctx);
  return {
    onnx: ctx.g.toBytes(),
    estimator,
    task,
    inputs,
    outputs,
    methods: served,
    ...(rowRefusal ? { rowRefusal } : {}),
  };
}

/** kneighbors' two graph outputs, `distances` DOUBLE [N, k] and `indices` INT64 [N, k] (2-D even for k = 1). */
function kneighborsOutputs(ctx: ConvertContext, distances: Var, indices: Var | undefined): ServedMethod {
  if (!indices) throw new UnsupportedEstimatorError('kneighbors needs its indices output');
  ctx.g.node('Identity', [distances.name], ['distances']);
  ctx.g.output('distances', 'DOUBLE', ['N', distances.cols]);
  ctx.g.node('Identity', [indices.name], ['indices']);
  ctx.g.output('indices', 'INT64', ['N', indices.cols]);
  return {
    output: 'distances',
    type: 'DOUBLE',
    cols: distances.cols,
    more: [{ name: 'indices', output: 'indices', type: 'INT64', cols: indices.cols }],
  };
}

/** The default method of a converted graph: predict when it has one, else transform. */
export function defaultMethod(g: Pick<ConvertedGraph, 'methods'>): SklearnMethod {
  return g.methods.predict ? 'predict' : g.methods.transform ? 'transform' : 'kneighbors';
}
