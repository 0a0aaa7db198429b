// Searches, Gaussian processes and radius neighbours served over HTTP on 127.0.0.1 (V1 and V2): predict_std chosen
// by the "method" parameter, a search's best estimator with predict_proba, and RadiusNeighborsClassifier
// (outlier_label=None) answering a batch with rows that have no neighbour with a 400 that names them.
import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SklearnModel } from '../src/index.js';
import { expectClose, localFixture, postJson, readJson, serveOnLoopback } from './helpers.js';

interface Case {
  name: string;
  inputs: number[][];
  methods: Record<string, unknown[]>;
}
const expected = readJson<{ cases: Case[]; radius_refusal: { inputs: number[][]; rows: number[] } }>(
  localFixture('search/expected.json'),
);
const byName = (n: string): Case => expected.cases.find((c) => c.name === n)!;
const fixture = (n: string): string => localFixture(`search/${n}.joblib`);

let server: ModelServer;
let base = '';

beforeAll(async () => {
  ({ server, base } = await serveOnLoopback([
    new SklearnModel('radius', { path: fixture('radius_clf_no_outlier_label') }),
    new SklearnModel('gpr', { path: fixture('gpr_std_const_rbf_white_normalize') }),
    new SklearnModel('search', { path: fixture('grid_search_knn_weights') }),
    new SklearnModel('gpc', { path: fixture('gpc_one_vs_rest_rbf') }),
  ]));
});
afterAll(async () => {
  await server.stop();
});

const post = (path: string, body: unknown) => postJson(base, path, body);
const flat = (v: unknown): number[] => (v as unknown[]).flat(2) as number[];
const v2 = (rows: number[][], parameters?: Record<string, string | boolean>) => ({
  inputs: [{ name: 'input-0', datatype: 'FP64', shape: [rows.length, rows[0]!.length], data: rows.flat() }],
  ...(parameters ? { parameters } : {}),
});

describe('searches, Gaussian processes and radius neighbours over HTTP', () => {
  it('RadiusNeighborsClassifier(outlier_label=None): rows with no neighbour get a 400 naming them; others are served', async () => {
    const { inputs, rows } = expected.radius_refusal;
    const want = new RegExp(`rows ${rows.join(', ')} \\(0-based\\) have no training row within radius 0\\.8`);
    const r1 = await post('/v1/models/radius:predict', { instances: inputs });
    expect(r1.status).toBe(400);
    expect(JSON.stringify(r1.json)).toMatch(want);
    const r2 = await post('/v2/models/radius/infer', v2(inputs, { method: 'predict_proba' }));
    expect(r2.status).toBe(400);
    expect(JSON.stringify(r2.json)).toMatch(want);
    const ok = byName('radius_clf_no_outlier_label');
    const good = await post('/v1/models/radius:predict', { instances: ok.inputs });
    expect(good.status).toBe(200);
    expect(good.json.predictions).toEqual(ok.methods.predict);
  });

  it('GaussianProcessRegressor: "method": "predict_std" gives [N, 2] (mean, std), V1 and V2; predict stays the default', async () => {
    const c = byName('gpr_std_const_rbf_white_normalize');
    const s = await post('/v1/models/gpr:predict', { instances: c.inputs, parameters: { method: 'predict_std' } });
    expect(s.status).toBe(200);
    expectClose(flat(s.json.predictions), flat(c.methods.predict_std), 1e-9, 1e-12);
    const v = await post('/v2/models/gpr/infer', v2(c.inputs, { method: 'predict_std' }));
    const out = (v.json.outputs as { data: number[]; shape: number[] }[])[0]!;
    expect(out.shape).toEqual([c.inputs.length, 2]);
    expectClose(out.data, flat(c.methods.predict_std), 1e-9, 1e-12);
    const p = await post('/v1/models/gpr:predict', { instances: c.inputs });
    expectClose(flat(p.json.predictions), flat(c.methods.predict), 1e-9, 1e-12);
  });

  it("a GridSearchCV answers with its best estimator, predict_proba as KServe's sklearnserver asks for it", async () => {
    const c = byName('grid_search_knn_weights');
    const p = await post('/v1/models/search:predict', { instances: c.inputs });
    expect(p.json.predictions).toEqual(c.methods.predict);
    const q = await post('/v2/models/search/infer', v2(c.inputs, { predict_proba: true }));
    expectClose((q.json.outputs as { data: number[] }[])[0]!.data, flat(c.methods.predict_proba), 1e-9, 1e-12);
  });

  it('GaussianProcessClassifier: predict and predict_proba; predict_std is refused with the methods it serves', async () => {
    const c = byName('gpc_one_vs_rest_rbf');
    const p = await post('/v1/models/gpc:predict', { instances: c.inputs });
    expect(p.json.predictions).toEqual(c.methods.predict);
    const q = await post('/v1/models/gpc:predict', { instances: c.inputs, parameters: { method: 'predict_proba' } });
    expectClose(flat(q.json.predictions), flat(c.methods.predict_proba), 1e-9, 1e-12);
    const bad = await post('/v1/models/gpc:predict', { instances: c.inputs, parameters: { method: 'predict_std' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/has no predict_std; it serves predict, predict_proba/);
  });
});
