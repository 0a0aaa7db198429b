import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { convertXGBoostBytes, loadXGBoostModel } from '../src/index.js';
import { expectClose, localFixture, maxErrors, runConverted } from './helpers.js';

/** Models written by test/fixtures/gen_xgboost_categorical.py (XGBoost 1.7.4, enable_categorical=True). */
interface CategoricalExpected {
  params: { objective: string; max_cat_to_onehot: number };
  categorical_splits: { one_hot: number; partition: number };
  inputs: (number | null)[][];
  booster_predict: number[] | number[][];
  booster_predict_output_margin: number[] | number[][];
}

const ROOT = localFixture('xgboost-categorical');
const CASES = readdirSync(ROOT).sort();
const read = (name: string): CategoricalExpected =>
  JSON.parse(readFileSync(`${ROOT}/${name}/expected.json`, 'utf8')) as CategoricalExpected;

describe('XGBoost models with categorical splits (enable_categorical)', () => {
  it('has one-hot and partition splits among the generated cases', () => {
    expect(CASES).toEqual(['binary_approx_partition', 'multi_softprob_partition', 'reg_onehot', 'reg_partition']);
    expect(read('reg_onehot').categorical_splits).toEqual({ one_hot: 19, partition: 0 });
    expect(read('reg_partition').categorical_splits.partition).toBeGreaterThan(0);
  });

  for (const name of CASES) {
    const expected = read(name);
    for (const file of ['model.json', 'model.ubj']) {
      it(`${name}/${file} (${expected.params.objective}) equals Booster.predict() on codes, unseen codes and NaN`, async () => {
        const m = await loadXGBoostModel(`${ROOT}/${name}/${file}`);
        expect(m.objective).toBe(expected.params.objective);
        expect(m.featureNames).toEqual(['color', 'size', 'x', 'z']);
        const rows = expected.inputs.map((r) => r.map((v) => (v === null ? Number.NaN : v)));
        const out = await runConverted(m, rows);
        expectClose(out.predict, expected.booster_predict.flat(), `${name}/${file} predict`);
        expectClose(out.margin, expected.booster_predict_output_margin.flat(), `${name}/${file} margin`);
      });
    }
  }

  it('refuses a categorical node whose category set is missing, naming the tree and node', () => {
    const text = readFileSync(`${ROOT}/reg_partition/model.json`, 'utf8');
    const node = /"categories_nodes":\[(\d+)/.exec(text)![1];
    const bytes = new TextEncoder().encode(text.replace(/"categories_nodes":\[\d+/, '"categories_nodes":[999'));
    expect(() => convertXGBoostBytes(bytes, 'model.json')).toThrow(
      `model.json: cannot read xgboost-json model: tree 0 node ${node} is a categorical split without a category set`,
    );
  });
});

afterAll(() => {
  console.log(
    `categorical xgboost models: max abs error ${maxErrors.abs}, max rel error ${maxErrors.rel} (${maxErrors.relWhereAtLeast1e3} where |expected| >= 1e-3)`,
  );
});
