/**
 * TargetEncoder (scikit-learn ≥ 1.3) `transform`: each category → its learned encoding, an unknown category → the
 * target mean; multiclass targets give n_classes columns per feature (feature-major, class-minor, as scikit-learn).
 * `fit_transform`'s cross fitting is training-time only and never served.
 */
import { attr } from '@servekit/onnx';
import { PickleFormatError, UnsupportedEstimatorError } from '../pickle/errors.js';
import type { NdArray, PyObject } from '../pickle/py-types.js';
import { isNdArray } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { categories, oneHotColumn } from './preprocessing.js';
import { arr, bool, get, list, need, num, str, toF64 } from './state.js';

const TARGET_TYPES = new Set(['binary', 'continuous', 'multiclass']);

/** The fitted state the graph needs, checked for consistency. */
interface TargetEncoding {
  cats: NdArray[];
  /** Per feature: row-major [n_categories, k] encodings. */
  tables: Float64Array[];
  /** Target mean per output column of a feature (k values). */
  means: Float64Array;
  k: number;
}

function readState(est: PyObject): TargetEncoding {
  if (bool(est, '_infrequent_enabled', false)) {
    throw new UnsupportedEstimatorError('TargetEncoder with infrequent categories is not supported');
  }
  need(est, 'target_type_');
  const type = str(est, 'target_type_');
  if (!TARGET_TYPES.has(type)) {
    throw new UnsupportedEstimatorError(
      `TargetEncoder target_type_='${type}' is not supported (binary, continuous or multiclass)`,
    );
  }
  const cats = categories(est);
  const nIn = get(est, 'n_features_in_');
  if (nIn !== undefined && num(est, 'n_features_in_') !== cats.length) {
    throw new PickleFormatError(
      `TargetEncoder has ${cats.length} categories_ arrays for n_features_in_=${num(est, 'n_features_in_')}`,
    );
  }
  let means: Float64Array;
  if (type === 'multiclass') {
    const classes = arr(est, 'classes_');
    means = toF64(arr(est, 'target_mean_'));
    if (means.length !== classes.shape.reduce((a, b) => a * b, 1) || means.length < 2) {
      throw new PickleFormatError(
        `TargetEncoder target_mean_ has ${means.length} values for ${classes.shape[0] ?? 0} classes_`,
      );
    }
  } else {
    means = Float64Array.of(num(est, 'target_mean_'));
  }
  const k = means.length;
  const encodings = list(est, 'encodings_');
  if (encodings.length !== cats.length * k) {
    throw new PickleFormatError(
      `TargetEncoder has ${encodings.length} encodings_ for ${cats.length} features × ${k} columns each (expected ${cats.length * k})`,
    );
  }
  const tables = cats.map((c, j) => {
    const m = c.shape[0] ?? 0;
    const table = new Float64Array(m * k);
    for (let cls = 0; cls < k; cls++) {
      const e = encodings[j * k + cls];
      if (!isNdArray(e)) throw new PickleFormatError('TargetEncoder.encodings_ entries must be arrays');
      const values = toF64(e);
      if (values.length !== m) {
        throw new PickleFormatError(
          `TargetEncoder encodings_[${j * k + cls}] has ${values.length} values for the ${m} categories of feature ${j}`,
        );
      }
      values.forEach((v, i) => {
        if (!Number.isFinite(v)) throw new UnsupportedEstimatorError('TargetEncoder with non-finite encodings_');
        table[i * k + cls] = v;
      });
    }
    return table;
  });
  return { cats, tables, means, k };
}

/** TargetEncoder.transform: [N, F] (strings or numbers) → [N, F·k] float64 (k = n_classes for multiclass, else 1). */
export function targetEncoder(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const { cats, tables, means, k } = readState(est);
  if (x.cols !== cats.length) {
    throw new UnsupportedEstimatorError(`TargetEncoder was fitted on ${cats.length} features but gets ${x.cols}`);
  }
  const meanRow = ctx.constD(means, [1, k]);
  const parts = cats.map((c, j) => {
    const oh = oneHotColumn(ctx, ctx.columns(x, [j]), c);
    // a one-hot row picks one table row exactly (1·e + 0·…); rows with no hit are unknown → target mean
    const picked = ctx.op('MatMul', [oh.name, ctx.constD(tables[j]!, [oh.cols, k])]);
    const hit = ctx.op('ReduceSum', [oh.name, ctx.constI([1])], { keepdims: attr.i(1) });
    const unknown = ctx.op('Equal', [hit, ctx.constD([0], [])]);
    return { name: ctx.op('Where', [unknown, meanRow, picked]), type: 'DOUBLE' as const, cols: k };
  });
  return ctx.concat(parts);
}
