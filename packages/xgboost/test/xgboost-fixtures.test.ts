import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadXGBoostModel } from '../src/index.js';
import { expectClose, fixture, maxErrors, runConverted } from './helpers.js';

interface XgbExpected {
  objective: string;
  num_features: number;
  inputs: number[][];
  booster_predict: number[] | number[][];
  booster_predict_output_margin: number[] | number[][];
}

const FORMATS = ['model.json', 'model.ubj', 'model.bst'] as const;
const DIRS = ['breast_cancer_binary', 'diabetes_regressor', 'iris_multiclass'] as const;

describe('XGBoost 1.7.4 fixtures (fixtures/xgboost), all three formats', () => {
  for (const dir of DIRS) {
    const expected = JSON.parse(readFileSync(fixture(`xgboost/${dir}/expected.json`), 'utf8')) as XgbExpected;
    for (const file of FORMATS) {
      it(`${dir}/${file} equals Booster.predict() and output_margin`, async () => {
        const m = await loadXGBoostModel(fixture(`xgboost/${dir}/${file}`));
        expect(m.objective).toBe(expected.objective);
        expect(m.numFeatures).toBe(expected.num_features);
        expect(m.inputName).toBe('input');
        const out = await runConverted(m, expected.inputs);
        const n = expected.inputs.length;
        const multi = Array.isArray(expected.booster_predict[0]);
        const dims = multi ? [n, (expected.booster_predict[0] as number[]).length] : [n];
        expect(out.predictDims).toEqual(dims);
        expect(out.marginDims).toEqual(dims);
        expect(m.outputs.map((o) => [o.name, o.shape])).toEqual([
          ['predict', multi ? [-1, dims[1]] : [-1]],
          ['margin', multi ? [-1, dims[1]] : [-1]],
        ]);
        expectClose(out.predict, expected.booster_predict.flat(), `${dir}/${file} predict`);
        expectClose(out.margin, expected.booster_predict_output_margin.flat(), `${dir}/${file} margin`);
        expect(m.kind).toBe(dir === 'diabetes_regressor' ? 'regressor' : 'classifier');
        expect(m.numClass).toBe({ breast_cancer_binary: 2, diabetes_regressor: 0, iris_multiclass: 3 }[dir]);
      });
    }
  }
});

interface KserveExpected {
  kserve_test: { request_v1: { instances: number[][] }; response_v1: { predictions: number[] } };
  debian_library_outputs: {
    inputs: number[][];
    per_file: Record<string, { predict: number[]; output_margin: number[][] }>;
  };
}

describe("KServe's xgbserver example (XGBoost 2.0.3, multi:softmax, 10 classes)", () => {
  const expected = JSON.parse(
    readFileSync(fixture('kserve-examples/xgboost_iris_softmax/expected.json'), 'utf8'),
  ) as KserveExpected;
  for (const file of FORMATS) {
    it(`${file}: class ids and margins equal XGBoost's`, async () => {
      const m = await loadXGBoostModel(fixture(`kserve-examples/xgboost_iris_softmax/${file}`));
      expect(m.objective).toBe('multi:softmax');
      expect(m.numClass).toBe(10);
      const lib = expected.debian_library_outputs;
      const out = await runConverted(m, lib.inputs);
      expect(out.predictDims).toEqual([4]);
      expect(out.predict).toEqual(lib.per_file[file]!.predict);
      expect(out.marginDims).toEqual([4, 10]);
      expectClose(out.margin, lib.per_file[file]!.output_margin.flat(), `${file} margin`);
      const v1 = await runConverted(m, expected.kserve_test.request_v1.instances);
      expect(v1.predict).toEqual(expected.kserve_test.response_v1.predictions);
    });
  }
});

afterAll(() => {
  console.log(
    `xgboost fixtures: max abs error ${maxErrors.abs}, max rel error ${maxErrors.rel} (${maxErrors.relWhereAtLeast1e3} where |expected| >= 1e-3)`,
  );
});
