import { describe, expect, it } from 'vitest';
import { convertEstimator } from '../src/convert/model.js';
import { DictVectorizer } from '../src/dict-vectorizer.js';
import type { ConvertedSklearnModel } from '../src/index.js';
import type { DType, NdArray, PyObject, PyValue } from '../src/pickle/py-types.js';
import { RequestEncoder } from '../src/request-encoding.js';
import { runModel } from './helpers.js';

const dt = (char: DType['char'], itemsize: number): DType => ({ kind: 'dtype', char, itemsize, byteOrder: '<' });
const nd = (data: NdArray['data'], shape: number[], d = dt('f', 8)): NdArray => ({
  kind: 'ndarray',
  dtype: d,
  shape,
  data,
});
const obj = (module: string, name: string, state: Record<string, PyValue>): PyObject => ({
  kind: 'object',
  module,
  name,
  args: [],
  state: new Map(Object.entries(state)),
});

/** A fitted one-split DecisionTreeRegressor as sklearn >= 1.3 pickles it (node record with missing_go_to_left). */
function stump(missingGoLeft: number | undefined): PyObject {
  const fields = new Map<string, NdArray>([
    ['left_child', nd(BigInt64Array.of(1n, -1n, -1n), [3], dt('i', 8))],
    ['right_child', nd(BigInt64Array.of(2n, -1n, -1n), [3], dt('i', 8))],
    ['feature', nd(BigInt64Array.of(0n, -2n, -2n), [3], dt('i', 8))],
    ['threshold', nd(Float64Array.of(0.5, -2, -2), [3])],
  ]);
  if (missingGoLeft !== undefined)
    fields.set('missing_go_to_left', nd(Uint8Array.of(missingGoLeft, 0, 0), [3], dt('u', 1)));
  const nodes: NdArray = { kind: 'ndarray', dtype: dt('V', 64), shape: [3], data: [], fields };
  const tree = obj('sklearn.tree._tree', 'Tree', {
    nodes,
    values: nd(Float64Array.of(15, 10, 20), [3, 1, 1]),
    node_count: 3,
  });
  return obj('sklearn.tree._classes', 'DecisionTreeRegressor', { tree_: tree, n_features_in_: 1, n_outputs_: 1 });
}

const converted = (root: PyValue): ConvertedSklearnModel => {
  const g = convertEstimator(root);
  return { ...g, encoder: new RequestEncoder(g.inputs) };
};

describe('tree node record versions', () => {
  it('sklearn >= 1.3 missing_go_to_left routes NaN (JSON null) left; its absence routes NaN right', async () => {
    const left = converted(stump(1));
    const outLeft = await runModel(left, left.encoder.encodeInstances([[null], [0.2], [0.9]]));
    expect(outLeft.variable).toEqual([10, 10, 20]);
    const right = converted(stump(0));
    expect((await runModel(right, right.encoder.encodeInstances([[null]]))).variable).toEqual([20]);
    const old = converted(stump(undefined));
    expect((await runModel(old, old.encoder.encodeInstances([[null], [0.5]]))).variable).toEqual([20, 10]);
  });
});

describe('DictVectorizer semantics', () => {
  const v = new DictVectorizer(
    ['a', 'b', 'c=x', 'c=y', 'tags=p', 'tags=q'],
    new Map([
      ['a', 0],
      ['b', 1],
      ['c=x', 2],
      ['c=y', 3],
      ['tags=p', 4],
      ['tags=q', 5],
    ]),
  );
  it('strings one-hot as key=value, numbers/bools as-is, null → NaN, lists one-hot, unknown ignored, missing 0', () => {
    const out = Array.from(
      v.vectorize([
        { a: 2.5, b: true, c: 'y', tags: ['p', 'q', 'p'], zzz: 9 },
        { c: 'unseen', b: null },
      ]),
    );
    expect(out.slice(0, 6)).toEqual([2.5, 1, 0, 1, 2, 1]);
    expect(out.slice(6, 8)).toEqual([0, Number.NaN]);
    expect(out.slice(8)).toEqual([0, 0, 0, 0]);
  });
  it('rejects rows that are not objects', () => {
    expect(() => v.vectorize([[1, 2]])).toThrow(/instance 0 must be an object/);
  });
});

describe('matrix models fitted on a DataFrame', () => {
  it('accept V1 rows as {feature: value} dicts in feature_names_in_ order', async () => {
    const lr = obj('sklearn.linear_model._base', 'LinearRegression', {
      coef_: nd(Float64Array.of(1, 10), [2]),
      intercept_: 0.5,
      n_features_in_: 2,
      feature_names_in_: nd(['x', 'y'], [2], dt('O', 8)),
    });
    const m = converted(lr);
    const out = await runModel(m, m.encoder.encodeInstances([{ y: 2, x: 1 }, [3, 4]]));
    expect(out.variable).toEqual([21.5, 43.5]);
    expect(() => m.encoder.encodeInstances([{ x: 1 }])).toThrow(/missing feature 'y'/);
  });
});
