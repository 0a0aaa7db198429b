// Triton's classification extension on a scikit-learn classifier: labels come from its `classes_`.
import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SklearnModel } from '../src/index.js';
import { fixture, readJson, serveOnLoopback } from './helpers.js';

interface Expected {
  inputs: number[][];
  classes: number[];
  predict_proba: number[][];
}

let server: ModelServer;
let base = '';
const exp = readJson<Expected>(fixture('sklearn/iris_logreg/expected.json'));

beforeAll(async () => {
  ({ server, base } = await serveOnLoopback([
    new SklearnModel('iris', { path: fixture('sklearn/iris_logreg/model.joblib'), loadIn: 'main' }),
  ]));
});
afterAll(() => server.stop());

/** Triton's `"score:index:label"` entries of one row, top k, highest first. */
function topK(row: number[], k: number): string[] {
  return row
    .map((score, index) => ({ score, index }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k)
    .map(({ score, index }) => `${score.toFixed(6)}:${index}:${exp.classes[index]}`);
}

describe('SklearnModel classification labels', () => {
  it('answers "classification": k on predict_proba with "score:index:label" from classes_ (REST V2)', async () => {
    const res = await fetch(`${base}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'input-0', datatype: 'FP64', shape: [exp.inputs.length, 4], data: exp.inputs }],
        parameters: { method: 'predict_proba' },
        outputs: [{ name: 'output-0', parameters: { classification: 2 } }],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      outputs: Array<{ name: string; datatype: string; shape: number[]; data: string[] }>;
    };
    const out = body.outputs[0]!;
    expect(out.datatype).toBe('BYTES');
    expect(out.shape).toEqual([exp.inputs.length, 2]);
    expect(out.data).toEqual(exp.predict_proba.flatMap((row) => topK(row, 2)));
    expect(out.data[0]).toMatch(/^0\.98\d{4}:0:0$/);
  });

  it('names the classes of a classifier and none for a regressor-like output name', () => {
    const model = server.repository.get('iris') as SklearnModel;
    expect(model.classLabels('output-0')).toEqual(exp.classes.map(String));
    expect(model.classLabels('other')).toBeUndefined();
  });
});
