import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SklearnModel } from '../src/index.js';
import { expectClose, fixture, postJson, readJson, serveOnLoopback } from './helpers.js';

let server: ModelServer;
let base = '';

beforeAll(async () => {
  ({ server, base } = await serveOnLoopback([
    new SklearnModel('churn', { path: fixture('sklearn/churn/model.joblib') }),
    new SklearnModel('mixed', { path: fixture('kserve-examples/sklearn_mixedtype_pipeline/model.joblib') }),
  ]));
});
afterAll(async () => {
  await server.stop();
});

const post = (path: string, body: unknown) => postJson(base, path, body);

describe('SklearnModel behind a real ModelServer (HTTP on 127.0.0.1)', () => {
  it('V1 churn: raw customer dicts → sklearn predict / predict_proba', async () => {
    const exp = readJson<{ inputs: object[]; predict: number[]; predict_proba: number[][] }>(
      fixture('sklearn/churn/expected.json'),
    );
    const r = await post('/v1/models/churn:predict', { instances: exp.inputs });
    expect(r.status).toBe(200);
    expect(r.json.predictions).toEqual(exp.predict);
    const p = await post('/v1/models/churn:predict', { instances: exp.inputs, parameters: { predict_proba: true } });
    expectClose((p.json.predictions as number[][]).flat(), exp.predict_proba.flat(), 1e-6);
  });

  it('V2 mixedtype: one JSON tensor per column with content_type pd', async () => {
    const cols: Record<string, string | number> = {
      MSZoning: 'RL',
      LotArea: 8450,
      LotShape: 'Reg',
      Utilities: 'AllPub',
      YrSold: 2008,
      Neighborhood: 'CollgCr',
      OverallQual: 7,
      YearBuilt: 2003,
      SaleType: 'WD',
      GarageArea: 548,
    };
    const inputs = Object.entries(cols).map(([name, v]) => ({
      name,
      shape: [1],
      datatype: typeof v === 'number' ? 'INT32' : 'BYTES',
      data: [v],
    }));
    const r = await post('/v2/models/mixed/infer', { inputs, parameters: { content_type: 'pd' } });
    expect(r.status).toBe(200);
    const out = (r.json.outputs as { data: number[] }[])[0]!;
    expectClose(out.data, [12.202832815138274], 1e-6);
  });

  it('a bad V1 request is a 400 naming the problem', async () => {
    const r = await post('/v1/models/churn:predict', { instances: [[1, 2, 3]] });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toMatch(/DictVectorizer/);
  });
});
