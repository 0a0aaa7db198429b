// TreeModel (the XGBoost/LightGBM servable) on a real server over loopback: V1 rows and V2 FP64/FP32 tensors give
// Booster.predict(); `output_margin` gives margins; JSON null features are missing values (NaN) on both protocols.
import { readFileSync } from 'node:fs';
import { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTreeModel, TreeModel } from '../src/index.js';
import { expectClose, fixture, runConverted } from './helpers.js';

interface Expected {
  inputs: number[][];
  booster_predict: number[];
  booster_predict_output_margin: number[];
}

const MODEL = fixture('xgboost/breast_cancer_binary/model.json');
/** Centred features (diabetes): a missing value and 0 often take different branches, unlike breast_cancer's. */
const REGRESSOR = fixture('xgboost/diabetes_regressor/model.json');
const regressorInputs = (
  JSON.parse(readFileSync(fixture('xgboost/diabetes_regressor/expected.json'), 'utf8')) as Expected
).inputs;
const expected = JSON.parse(readFileSync(fixture('xgboost/breast_cancer_binary/expected.json'), 'utf8')) as Expected;

describe('TreeModel served', () => {
  let server: ModelServer;
  let base: string;
  beforeAll(async () => {
    server = new ModelServer({ httpPort: 0, host: '127.0.0.1', enableGrpc: false, logLevel: 'silent' });
    await server.start([new TreeModel('bc', { path: MODEL }), new TreeModel('reg', { path: REGRESSOR })]);
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  afterAll(() => server.stop());

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body) });
    return {
      status: res.status,
      body: (await res.json()) as { predictions?: number[]; outputs?: Array<{ name: string; data: number[] }> },
    };
  };
  const v2 = (
    rows: Array<Array<number | null>>,
    datatype: 'FP32' | 'FP64',
    parameters?: Record<string, boolean>,
    model = 'bc',
  ) =>
    post(`/v2/models/${model}/infer`, {
      inputs: [{ name: 'input-0', datatype, shape: [rows.length, rows[0]!.length], data: rows.flat() }],
      ...(parameters ? { parameters } : {}),
    });

  it('answers V1 rows with Booster.predict(), and margins with output_margin', async () => {
    const p = await post('/v1/models/bc:predict', { instances: expected.inputs });
    expectClose(p.body.predictions!, expected.booster_predict, 'V1 predict');
    const m = await post('/v1/models/bc:predict', { instances: expected.inputs, parameters: { output_margin: true } });
    expectClose(m.body.predictions!, expected.booster_predict_output_margin, 'V1 margin');
  });

  it('takes FP64 V2 tensors (cast to float32 as XGBoost does) and answers one output', async () => {
    const p = await v2(expected.inputs, 'FP64');
    expect(p.body.outputs!.map((o) => o.name)).toEqual(['predict']);
    expectClose(p.body.outputs![0]!.data, expected.booster_predict, 'V2 predict');
    const m = await v2(expected.inputs, 'FP64', { output_margin: true });
    expect(m.body.outputs!.map((o) => o.name)).toEqual(['margin']);
    expectClose(m.body.outputs![0]!.data, expected.booster_predict_output_margin, 'V2 margin');
  });

  it('treats JSON null features as missing (NaN) on V1 and V2, following the default directions', async () => {
    const converted = await loadTreeModel(REGRESSOR);
    const n = converted.numFeatures;
    // Pick, per row, a feature whose missing value answers differently from 0 (a null read as 0 would show).
    const base = regressorInputs.slice(0, 4);
    const probe = (fill: number) =>
      runConverted(
        converted,
        base.flatMap((r) => r.map((_, j) => r.map((v, k) => (k === j ? fill : v)))),
      );
    const [asNaN, asZero] = await Promise.all([probe(Number.NaN), probe(0)]);
    const rows: Array<Array<number | null>> = base.map((r, i) => {
      const j = r.findIndex((_, k) => asNaN.margin[i * n + k] !== asZero.margin[i * n + k]);
      expect(j, `row ${i} has a feature whose missing value matters`).toBeGreaterThanOrEqual(0);
      return r.map((v, k) => (k === j ? null : v));
    });
    const nan = await runConverted(
      converted,
      rows.map((r) => r.map((v) => v ?? Number.NaN)),
    );
    const zero = await runConverted(
      converted,
      rows.map((r) => r.map((v) => v ?? 0)),
    );
    expect(nan.predict).not.toEqual(zero.predict);
    expectClose((await post('/v1/models/reg:predict', { instances: rows })).body.predictions!, nan.predict, 'V1');
    expectClose((await v2(rows, 'FP32', undefined, 'reg')).body.outputs![0]!.data, nan.predict, 'V2 FP32');
    expectClose((await v2(rows, 'FP64', undefined, 'reg')).body.outputs![0]!.data, nan.predict, 'V2 FP64');
  });

  it('describes its input as FP32 [-1, 30]', async () => {
    const md = (await (await fetch(`${base}/v2/models/bc`)).json()) as {
      platform: string;
      inputs: Array<{ datatype: string; shape: number[] }>;
    };
    expect(md.inputs[0]).toMatchObject({ datatype: 'FP32', shape: [-1, 30] });
    expect(md.platform).toBe('servekit_tree_ensemble');
  });
});
