import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertCatBoostBytes, loadCatBoostModel, loadTreeModel } from '../src/index.js';
import { expectClose, localFixture, runConverted } from './helpers.js';

/**
 * CatBoost is not packaged for Debian. tiny_binary_wafer is a real CatBoost JSON file with its source's expected
 * value; the other models are hand-written to CatBoost's JSON schema by test/fixtures/gen_catboost.py, whose
 * reference evaluator wrote expected.json, and `rawFormulaVal` below is a second, TypeScript evaluator of the
 * schema. Neither shares code with the ONNX conversion.
 */
interface Expected {
  loss: string;
  inputs: (number | null)[][];
  raw_formula_val: (number | number[])[];
  predict: (number | number[])[];
}
type Split = {
  split_type: string;
  border?: number;
  float_feature_index?: number;
  cat_feature_index?: number;
  value?: number;
};
interface Doc {
  features_info: {
    float_features?: { feature_index: number; flat_feature_index: number; nan_value_treatment: string }[];
    categorical_features?: { feature_index: number; flat_feature_index: number; values: number[] }[];
  };
  oblivious_trees: { leaf_values: number[]; splits: Split[] }[];
  scale_and_bias: [number, number[]];
}

const ROOT = localFixture('catboost');
const read = (name: string): { doc: Doc; text: string; expected: Expected } => {
  const text = readFileSync(`${ROOT}/${name}/model.json`, 'utf8');
  return {
    text,
    doc: JSON.parse(text) as Doc,
    expected: JSON.parse(readFileSync(`${ROOT}/${name}/expected.json`, 'utf8')) as Expected,
  };
};
const nanRows = (rows: (number | null)[][]): number[][] => rows.map((r) => r.map((v) => (v === null ? Number.NaN : v)));

/** CatBoost's raw formula value of one row: leaf index bits from the oblivious splits, then scale and bias. */
function rawFormulaVal(doc: Doc, row: number[]): number[] {
  const floats = new Map(doc.features_info.float_features?.map((f) => [f.feature_index, f]));
  const cats = new Map(doc.features_info.categorical_features?.map((f) => [f.feature_index, f]));
  let total: number[] | undefined;
  for (const tree of doc.oblivious_trees) {
    let leaf = 0;
    tree.splits.forEach((s, level) => {
      let bit: boolean;
      if (s.split_type === 'FloatFeature') {
        const f = floats.get(s.float_feature_index!)!;
        const x = row[f.flat_feature_index]!;
        bit = Number.isNaN(x) ? f.nan_value_treatment === 'AsTrue' : x > s.border!;
      } else {
        const f = cats.get(s.cat_feature_index!)!;
        const code = row[f.flat_feature_index]!;
        bit = Number.isInteger(code) && f.values[code] === s.value;
      }
      if (bit) leaf |= 1 << level;
    });
    const dims = tree.leaf_values.length >> tree.splits.length;
    const values = tree.leaf_values.slice(leaf * dims, leaf * dims + dims);
    total = total ? total.map((t, k) => t + values[k]!) : values;
  }
  const [scale, bias] = doc.scale_and_bias;
  return total!.map((t, k) => scale * t + (bias.length > 1 ? bias[k]! : bias[0]!));
}

describe('CatBoost JSON models (oblivious trees, float and one-hot categorical splits)', () => {
  it('tiny_binary_wafer (a real CatBoost file) gives the raw value its source test expects', async () => {
    const expected = JSON.parse(readFileSync(`${ROOT}/tiny_binary_wafer/expected.json`, 'utf8')) as {
      inputs: number[][];
      src_test_predict_raw: number;
      src_test_sigmoid_probability: number;
    };
    const m = await loadCatBoostModel(`${ROOT}/tiny_binary_wafer/model.json`);
    expect(m.format).toBe('catboost-json');
    expect(m.objective).toBe('RawFormulaVal');
    expect(m.numFeatures).toBe(4);
    const out = await runConverted(m, expected.inputs);
    // The row lands in leaf 61 (bits 0, 2, 3, 4, 5), whose value the source rounds to 0.09794967.
    expectClose(out.margin, [expected.src_test_predict_raw], 'tiny raw');
    expectClose(out.predict, out.margin, 'no model_info: predict is the raw value');
    expect(Math.abs(1 / (1 + Math.exp(-out.margin[0]!)) - expected.src_test_sigmoid_probability)).toBeLessThan(0.01);
  });

  for (const name of ['binary_onehot', 'multiclass_onehot', 'regression_float']) {
    it(`${name}: the two reference evaluators agree, and the ONNX graph equals them`, async () => {
      const { doc, expected } = read(name);
      const rows = nanRows(expected.inputs);
      expectClose(
        rows.flatMap((r) => rawFormulaVal(doc, r)),
        expected.raw_formula_val.flat(),
        `${name} TypeScript vs Python reference`,
      );
      const m = await loadTreeModel(`${ROOT}/${name}/model.json`);
      expect(m.format).toBe('catboost-json');
      expect(m.objective).toBe(expected.loss);
      const out = await runConverted(m, rows);
      expectClose(out.margin, expected.raw_formula_val.flat(), `${name} raw`);
      expectClose(out.predict, expected.predict.flat(), `${name} predict`);
    });
  }

  it('records feature names, classes and category names (string_values or cat_features_hash)', async () => {
    const bin = await loadCatBoostModel(`${ROOT}/binary_onehot/model.json`);
    expect(bin).toMatchObject({ kind: 'classifier', numClass: 2, featureNames: ['amount', 'colour', 'size'] });
    expect(bin.categoricalColumns).toEqual([1]);
    expect(bin.categoryNames).toEqual([undefined, ['red', 'green', 'blue', 'black'], undefined]);
    const multi = await loadCatBoostModel(`${ROOT}/multiclass_onehot/model.json`);
    expect(multi).toMatchObject({ kind: 'classifier', numClass: 3 });
    expect(multi.outputs[0]!.shape).toEqual([-1, 3]);
    expect(multi.categoryNames?.[1]).toEqual(['round', 'square', 'oval']);
    const reg = await loadCatBoostModel(`${ROOT}/regression_float/model.json`);
    expect(reg).toMatchObject({ kind: 'regressor', numClass: 0, objective: 'RMSE' });
  });

  it('refuses CTR splits, non-symmetric trees, unknown losses and truncated .cbm files with messages that say why', () => {
    const { text } = read('binary_onehot');
    const enc = (s: string) => new TextEncoder().encode(s);
    const ctr = text.replace('"split_type": "OneHotFeature"', '"split_type": "OnlineCtr"');
    expect(() => convertCatBoostBytes(enc(ctr), 'm.json')).toThrow(
      'm.json: cannot read CatBoost JSON model: oblivious_trees[0].splits[1] is a CTR split',
    );
    const ctrs = text.replace('"categorical_features"', '"ctrs": [{"ctr_type": "Borders"}], "categorical_features"');
    expect(() => convertCatBoostBytes(enc(ctrs), 'm.json')).toThrow(/uses CTR features/);
    const depthwise = text.replace('"oblivious_trees"', '"trees"');
    expect(() => convertCatBoostBytes(enc(depthwise), 'm.json')).toThrow(/non-symmetric trees/);
    const poisson = text.replace('"type": "Logloss"', '"type": "Poisson"');
    expect(() => convertCatBoostBytes(enc(poisson), 'm.json')).toThrow('loss function "Poisson" is not supported');
    const leaves = text.replace('"leaf_values": [\n    0.01\n   ]', '"leaf_values": [0.01, 0.02, 0.03]');
    expect(leaves).not.toBe(text);
    expect(() => convertCatBoostBytes(enc(leaves), 'm.json')).toThrow(
      'oblivious_trees[2] has 3 leaf values for depth 0 (expected 1·dims)',
    );
    expect(() => convertCatBoostBytes(enc('CBM1\u0000\u0000'), 'model.cbm')).toThrow(
      'model.cbm: cannot read CatBoost binary model: the file ends inside its 8-byte header',
    );
  });
});
