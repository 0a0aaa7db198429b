import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadXGBoostModel } from '../src/index.js';
import { expectClose, fixture, runConverted } from './helpers.js';

/** The parts of model.json that the reference walker below reads. */
interface JsonTree {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: number[];
}
interface JsonModel {
  learner: {
    learner_model_param: { base_score: string; num_class: string };
    objective: { name: string };
    gradient_booster: { model: { trees: JsonTree[]; tree_info: number[] } };
  };
}

/** Tiny independent XGBoost evaluator: walks the JSON trees (x < cond goes left, NaN follows default_left). */
function referenceMargins(model: JsonModel, row: number[]): number[] {
  const { learner } = model;
  const k = Math.max(1, Number(learner.learner_model_param.num_class));
  const p = Number(learner.learner_model_param.base_score);
  const base = learner.objective.name === 'binary:logistic' ? Math.log(p / (1 - p)) : p;
  const sums = new Array<number>(k).fill(Math.fround(base));
  const { trees, tree_info } = learner.gradient_booster.model;
  trees.forEach((t, i) => {
    let n = 0;
    while (t.left_children[n] !== -1) {
      const v = Math.fround(row[t.split_indices[n]!]!);
      const goLeft = Number.isNaN(v) ? t.default_left[n] === 1 : v < Math.fround(t.split_conditions[n]!);
      n = goLeft ? t.left_children[n]! : t.right_children[n]!;
    }
    const g = tree_info[i]!;
    sums[g] = Math.fround(sums[g]! + Math.fround(t.split_conditions[n]!));
  });
  return sums;
}

/** Rows with NaNs: every row of the fixture inputs, with a rotating pattern of features set to NaN. */
function withNaNs(inputs: number[][]): number[][] {
  const rows: number[][] = [];
  inputs.forEach((r, i) => {
    rows.push(r.map((v, j) => ((i + j) % 3 === 0 ? Number.NaN : v)));
    rows.push(r.map((v, j) => (j % 2 === i % 2 ? Number.NaN : v)));
  });
  rows.push(inputs[0]!.map(() => Number.NaN));
  return rows;
}

describe('missing values (NaN) follow each split default direction', () => {
  for (const dir of ['breast_cancer_binary', 'diabetes_regressor', 'iris_multiclass']) {
    const json = JSON.parse(readFileSync(fixture(`xgboost/${dir}/model.json`), 'utf8')) as JsonModel;
    const inputs = (JSON.parse(readFileSync(fixture(`xgboost/${dir}/expected.json`), 'utf8')) as { inputs: number[][] })
      .inputs;
    const rows = withNaNs(inputs);
    const want = rows.map((r) => referenceMargins(json, r));
    it(`${dir}: the NaN rows take other branches than the complete rows (the test is not vacuous)`, () => {
      const complete = inputs.map((r) => referenceMargins(json, r));
      const changed = want.filter((mg, i) => i < 2 * inputs.length && mg.join() !== complete[i >> 1]!.join());
      expect(changed.length).toBeGreaterThan(inputs.length / 2);
    });
    for (const file of ['model.json', 'model.ubj', 'model.bst']) {
      it(`${dir}/${file}: margins and predictions with NaN features match the trees`, async () => {
        const m = await loadXGBoostModel(fixture(`xgboost/${dir}/${file}`));
        const out = await runConverted(m, rows);
        expectClose(out.margin, want.flat(), `${dir}/${file} margin`);
        const pred = want.map((mg) => {
          if (m.objective === 'binary:logistic') return [1 / (1 + Math.exp(-mg[0]!))];
          if (m.objective === 'multi:softprob') {
            const e = mg.map((v) => Math.exp(v - Math.max(...mg)));
            const s = e.reduce((a, b) => a + b, 0);
            return e.map((v) => v / s);
          }
          return mg;
        });
        expectClose(out.predict, pred.flat(), `${dir}/${file} predict`);
      });
    }
  }
});
