// The new models served over HTTP on 127.0.0.1 (V1 and V2), methods chosen by the "method" request parameter:
// outlier labels outside classes_, [N, outputs] labels, NaN predictions and a one-class model's scores.
import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SklearnModel } from '../src/index.js';
import { expectClose, localFixture, postJson, readJson, serveOnLoopback } from './helpers.js';

interface Case {
  name: string;
  inputs: number[][];
  methods: Record<string, unknown[]>;
}
const cases = readJson<{ cases: Case[] }>(localFixture('models-more/expected.json')).cases;
const byName = (n: string): Case => cases.find((c) => c.name === n)!;
const fixture = (n: string): string => localFixture(`models-more/${n}.joblib`);

let server: ModelServer;
let base = '';

beforeAll(async () => {
  ({ server, base } = await serveOnLoopback([
    new SklearnModel('ocsvm', { path: fixture('one_class_svm_rbf'), method: 'score_samples' }),
    new SklearnModel('radius-strings', { path: fixture('radius_clf_strings_manhattan') }),
    new SklearnModel('radius-outside', { path: fixture('radius_clf_label_outside_classes') }),
    new SklearnModel('radius-reg', { path: fixture('radius_reg_uniform') }),
    new SklearnModel('multi', { path: fixture('multi_output_classifier') }),
    new SklearnModel('gpr', { path: fixture('gpr_multitarget') }),
  ]));
});
afterAll(async () => {
  await server.stop();
});

const post = (path: string, body: unknown) => postJson(base, path, body);
const flat = (v: unknown): number[] => (v as unknown[]).flat(2) as number[];
const v2 = (rows: number[][], parameters?: Record<string, string>) => ({
  inputs: [{ name: 'input-0', datatype: 'FP64', shape: [rows.length, rows[0]!.length], data: rows.flat() }],
  ...(parameters ? { parameters } : {}),
});

describe('new scikit-learn models over HTTP', () => {
  it('OneClassSVM: score_samples by default, predict and decision_function on request (V1 and V2)', async () => {
    const c = byName('one_class_svm_rbf');
    const s = await post('/v1/models/ocsvm:predict', { instances: c.inputs });
    expectClose(flat(s.json.predictions), flat(c.methods.score_samples), 1e-9, 1e-12);
    const p = await post('/v1/models/ocsvm:predict', { instances: c.inputs, parameters: { method: 'predict' } });
    expect(p.json.predictions).toEqual(c.methods.predict);
    const d = await post('/v2/models/ocsvm/infer', v2(c.inputs, { method: 'decision_function' }));
    const out = (d.json.outputs as { data: number[]; shape: number[] }[])[0]!;
    expect(out.shape).toEqual([c.inputs.length]);
    expectClose(out.data, flat(c.methods.decision_function), 1e-9, 1e-12);
  });

  it('RadiusNeighborsClassifier: string labels with a string outlier label; -1 outside classes_ and zero probabilities', async () => {
    const s = byName('radius_clf_strings_manhattan');
    const r = await post('/v1/models/radius-strings:predict', { instances: s.inputs });
    expect(r.json.predictions).toEqual(s.methods.predict);
    expect(r.json.predictions).toContain('none');
    const o = byName('radius_clf_label_outside_classes');
    const v = await post('/v2/models/radius-outside/infer', v2(o.inputs));
    expect((v.json.outputs as { data: number[] }[])[0]!.data).toEqual(o.methods.predict);
    const proba = await post('/v1/models/radius-outside:predict', {
      instances: o.inputs,
      parameters: { method: 'predict_proba' },
    });
    expect(proba.json.predictions).toEqual(o.methods.predict_proba);
  });

  it('RadiusNeighborsRegressor: a row with no neighbour is NaN (null in JSON), as sklearn gives', async () => {
    const c = byName('radius_reg_uniform');
    const r = await post('/v1/models/radius-reg:predict', { instances: c.inputs });
    expect(r.status).toBe(200);
    const got = r.json.predictions as (number | null)[];
    expect(got.map((v) => v === null)).toEqual((c.methods.predict as (number | null)[]).map((v) => v === null));
  });

  it('MultiOutputClassifier: [N, outputs] labels; GaussianProcessRegressor: [N, targets] means', async () => {
    const m = byName('multi_output_classifier');
    const r = await post('/v1/models/multi:predict', { instances: m.inputs });
    expect(r.json.predictions).toEqual(m.methods.predict);
    const g = byName('gpr_multitarget');
    const v = await post('/v2/models/gpr/infer', v2(g.inputs));
    const out = (v.json.outputs as { data: number[]; shape: number[] }[])[0]!;
    expect(out.shape).toEqual([g.inputs.length, 2]);
    expectClose(out.data, flat(g.methods.predict), 1e-9, 1e-12);
    const bad = await post('/v1/models/multi:predict', {
      instances: m.inputs,
      parameters: { method: 'predict_proba' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/has no predict_proba; it serves predict/);
  });
});
