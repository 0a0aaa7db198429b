import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import type { ConvertedModel } from '../src/index.js';

/** The iris multiclass XGBoost JSON model with its trees repeated `times` times: a large, valid model. */
export function manyTreesModel(times: number): string {
  const doc = JSON.parse(readFileSync(fixture('xgboost/iris_multiclass/model.json'), 'utf8')) as {
    learner: {
      gradient_booster: {
        model: {
          gbtree_model_param: Record<string, string>;
          tree_info: number[];
          trees: { id: number }[];
          iteration_indptr?: number[];
        };
      };
    };
  };
  const model = doc.learner.gradient_booster.model;
  const trees = model.trees;
  const info = model.tree_info;
  model.trees = [];
  model.tree_info = [];
  for (let r = 0; r < times; r++) {
    for (const [i, t] of trees.entries()) {
      model.trees.push({ ...t, id: model.trees.length });
      model.tree_info.push(info[i]!);
    }
  }
  model.gbtree_model_param.num_trees = String(model.trees.length);
  delete model.iteration_indptr;
  return JSON.stringify(doc);
}

/** Absolute path of a file under the shared fixtures folder. */
export const fixture = (rel: string): string => new URL(`../../../../shared/fixtures/${rel}`, import.meta.url).pathname;

/** Path of a file under this package's test/fixtures. */
export const localFixture = (rel: string): string => new URL(`./fixtures/${rel}`, import.meta.url).pathname;

/** Runs a converted model on rows of features; returns both outputs with their dims. */
export async function runConverted(
  m: ConvertedModel,
  rows: ArrayLike<number>[],
): Promise<{ predict: number[]; predictDims: readonly number[]; margin: number[]; marginDims: readonly number[] }> {
  const session = await ort.InferenceSession.create(m.onnx);
  const x = new Float32Array(rows.length * m.numFeatures);
  rows.forEach((r, i) => {
    expect(r.length).toBe(m.numFeatures);
    x.set(
      Array.from(r, (v) => (v === null ? Number.NaN : v)),
      i * m.numFeatures,
    );
  });
  const out = await session.run({ [m.inputName]: new ort.Tensor('float32', x, [rows.length, m.numFeatures]) });
  await session.release();
  const p = out[m.predictOutput]!;
  const g = out[m.marginOutput]!;
  return {
    predict: Array.from(p.data as Float32Array),
    predictDims: p.dims,
    margin: Array.from(g.data as Float32Array),
    marginDims: g.dims,
  };
}

/** Largest errors seen, for the report. */
export const maxErrors = { abs: 0, rel: 0, relWhereAtLeast1e3: 0 };

/** Asserts |actual - expected| <= 1e-6 + 1e-5·|expected| elementwise and records the largest errors. */
export function expectClose(actual: number[], expected: number[], what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const abs = Math.abs(a - e);
    maxErrors.abs = Math.max(maxErrors.abs, abs);
    if (e !== 0) maxErrors.rel = Math.max(maxErrors.rel, abs / Math.abs(e));
    if (Math.abs(e) >= 1e-3) maxErrors.relWhereAtLeast1e3 = Math.max(maxErrors.relWhereAtLeast1e3, abs / Math.abs(e));
    if (!(abs <= 1e-6 + 1e-5 * Math.abs(e))) {
      expect.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${abs})`);
    }
  }
}
