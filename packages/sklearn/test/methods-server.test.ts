import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SklearnModel } from '../src/index.js';
import { expectClose, localFixture, postJson, readJson, serveOnLoopback } from './helpers.js';

interface Case {
  name: string;
  inputs: number[][];
  methods: Record<string, unknown[]>;
}
const cases = readJson<{ cases: Case[] }>(localFixture('families/expected.json')).cases;
const byName = (n: string): Case => cases.find((c) => c.name === n)!;

let server: ModelServer;
let base = '';

beforeAll(async () => {
  ({ server, base } = await serveOnLoopback([
    new SklearnModel('kmeans', { path: localFixture('families/kmeans.joblib') }),
    new SklearnModel('iforest', { path: localFixture('families/isolation_forest.joblib'), method: 'score_samples' }),
    new SklearnModel('lda', { path: localFixture('families/lda_svd.joblib') }),
    new SklearnModel('text', { path: localFixture('families/tfidf_vectorizer_logreg.joblib') }),
  ]));
});
afterAll(async () => {
  await server.stop();
});

const post = (path: string, body: unknown) => postJson(base, path, body);

const flat = (v: unknown): number[] => (v as unknown[]).flat(2) as number[];

describe('the "method" request parameter (V1 and V2 over HTTP on 127.0.0.1)', () => {
  it('KMeans: predict by default, transform on request (V1)', async () => {
    const c = byName('kmeans');
    const p = await post('/v1/models/kmeans:predict', { instances: c.inputs });
    expect(p.status).toBe(200);
    expect(p.json.predictions).toEqual(c.methods.predict);
    const t = await post('/v1/models/kmeans:predict', { instances: c.inputs, parameters: { method: 'transform' } });
    expectClose(flat(t.json.predictions), flat(c.methods.transform), 1e-9, 1e-12);
  });

  it('LDA: decision_function and transform through V2, predict_proba through the KServe flag', async () => {
    const c = byName('lda_svd');
    const inputs = [{ name: 'input-0', datatype: 'FP64', shape: [c.inputs.length, 4], data: c.inputs.flat() }];
    const d = await post('/v2/models/lda/infer', { inputs, parameters: { method: 'decision_function' } });
    expect(d.status).toBe(200);
    const out = (d.json.outputs as { data: number[]; shape: number[] }[])[0]!;
    expect(out.shape).toEqual([c.inputs.length, 3]);
    expectClose(out.data, flat(c.methods.decision_function), 1e-9, 1e-12);
    const p = await post('/v1/models/lda:predict', { instances: c.inputs, parameters: { predict_proba: true } });
    expectClose(flat(p.json.predictions), flat(c.methods.predict_proba), 1e-9, 1e-12);
  });

  it('IsolationForest served with method score_samples by default; predict on request', async () => {
    const c = byName('isolation_forest');
    const s = await post('/v1/models/iforest:predict', { instances: c.inputs });
    expectClose(flat(s.json.predictions), flat(c.methods.score_samples), 1e-9, 1e-12);
    const p = await post('/v1/models/iforest:predict', { instances: c.inputs, parameters: { method: 'predict' } });
    expect(p.json.predictions).toEqual(c.methods.predict);
  });

  it('text pipelines take documents: V1 strings and a V2 BYTES tensor', async () => {
    const c = byName('tfidf_vectorizer_logreg') as unknown as { inputs: string[]; methods: Record<string, unknown[]> };
    const v1 = await post('/v1/models/text:predict', { instances: c.inputs, parameters: { method: 'predict_proba' } });
    expectClose(flat(v1.json.predictions), flat(c.methods.predict_proba), 1e-9, 1e-12);
    const inputs = [{ name: 'docs', datatype: 'BYTES', shape: [c.inputs.length], data: c.inputs }];
    const v2 = await post('/v2/models/text/infer', { inputs });
    expect((v2.json.outputs as { data: unknown[] }[])[0]!.data).toEqual(c.methods.predict);
    const bad = await post('/v1/models/text:predict', { instances: [3] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/instance 0 must be a text document/);
  });

  it('a method the model lacks is a 400 naming what it serves', async () => {
    const c = byName('kmeans');
    const r = await post('/v1/models/kmeans:predict', { instances: c.inputs, parameters: { method: 'predict_proba' } });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toMatch(/has no predict_proba; it serves predict, transform/);
    const u = await post('/v1/models/kmeans:predict', { instances: c.inputs, parameters: { method: '__class__' } });
    expect(u.status).toBe(400);
    expect(JSON.stringify(u.json)).toMatch(/has no method \\"__class__\\"/);
    const p = await post('/v1/models/kmeans:predict', { instances: c.inputs, parameters: { method: 'constructor' } });
    expect(p.status).toBe(400);
    const n = await post('/v1/models/kmeans:predict', { instances: c.inputs, parameters: { method: 3 } });
    expect(n.status).toBe(400);
  });
});

describe('SklearnModel option method', () => {
  it('refuses at load a method the estimator does not serve', async () => {
    const m = new SklearnModel('bad', { path: localFixture('families/pca.joblib'), method: 'predict' });
    await expect(m.load()).rejects.toThrow(/--sklearn_method predict: PCA serves transform, score_samples/);
    const proto = new SklearnModel('bad', { path: localFixture('families/pca.joblib'), method: 'toString' });
    await expect(proto.load()).rejects.toThrow(/--sklearn_method toString/);
  });
});
