import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadXGBoostModel } from '../src/index.js';
import { expectClose, localFixture, maxErrors, runConverted } from './helpers.js';

/** Models written by test/fixtures/gen_xgboost_extra.py (XGBoost 1.7.4), with NaNs in training and test data. */
interface ExtraExpected {
  params: { objective: string; booster?: string };
  inputs: (number | null)[][];
  booster_predict: number[] | number[][];
  booster_predict_output_margin: number[] | number[][];
}

const ROOT = localFixture('xgboost-extra');
const CASES = readdirSync(ROOT).sort();

describe('generated XGBoost models (objectives, base_score, NaN default directions, dart, parallel trees)', () => {
  it('has the generated cases, whose trees send missing values both left and right', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
    const doc = JSON.parse(readFileSync(`${ROOT}/binary_logitraw/model.json`, 'utf8')) as {
      learner: { gradient_booster: { model: { trees: { left_children: number[]; default_left: number[] }[] } } };
    };
    const dl = doc.learner.gradient_booster.model.trees.flatMap((t) =>
      t.default_left.filter((_, n) => t.left_children[n] !== -1),
    );
    expect(dl).toContain(0);
    expect(dl).toContain(1);
  });
  for (const name of CASES) {
    const expected = JSON.parse(readFileSync(`${ROOT}/${name}/expected.json`, 'utf8')) as ExtraExpected;
    for (const file of ['model.json', 'model.ubj', 'model.bst']) {
      it(`${name}/${file} (${expected.params.objective}) equals Booster.predict() and output_margin`, async () => {
        const m = await loadXGBoostModel(`${ROOT}/${name}/${file}`);
        expect(m.objective).toBe(expected.params.objective);
        const rows = expected.inputs.map((r) => r.map((v) => (v === null ? Number.NaN : v)));
        expect(rows.some((r) => r.some(Number.isNaN))).toBe(true);
        const out = await runConverted(m, rows);
        const predict = expected.booster_predict.flat();
        if (expected.params.objective === 'multi:softmax' || expected.params.objective === 'binary:hinge') {
          expect(out.predict).toEqual(predict);
        } else {
          expectClose(out.predict, predict, `${name}/${file} predict`);
        }
        expectClose(out.margin, expected.booster_predict_output_margin.flat(), `${name}/${file} margin`);
      });
    }
  }
});

afterAll(() => {
  console.log(
    `generated xgboost models: max abs error ${maxErrors.abs}, max rel error ${maxErrors.rel} (${maxErrors.relWhereAtLeast1e3} where |expected| >= 1e-3)`,
  );
});
