import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { murmurhash3 } from '../src/convert/murmurhash3.js';
import { ndtri } from '../src/convert/ndtri.js';
import { loadSklearnModel, SklearnModel } from '../src/index.js';
import { expectClose, localFixture, postJson, readJson, runMethods, serveOnLoopback } from './helpers.js';

interface Case {
  name: string;
  file: string;
  input_kind: 'matrix' | 'labels' | 'text';
  inputs: unknown[];
  methods: Record<string, unknown[]>;
}

const expected = readJson<{ cases: Case[] }>(localFixture('transformers/expected.json'));

const nums = (v: unknown[]): number[] => (v.flat(2) as unknown[]).map((x) => (x === null ? Number.NaN : (x as number)));

describe.each(expected.cases.map((c) => [c.name, c] as const))('scikit-learn 1.2.1 %s', (_name, c) => {
  it('serves the same methods and matches every one of them (1e-9 relative)', async () => {
    const model = await loadSklearnModel(localFixture(`transformers/${c.file}`));
    expect(Object.keys(model.methods).sort()).toEqual(Object.keys(c.methods).sort());
    const got = await runMethods(model, model.encoder.encodeInstances(c.inputs));
    for (const [method, want] of Object.entries(c.methods)) {
      const flat = (want as unknown[]).flat(2);
      if (flat.some((v) => typeof v === 'string') || (method === 'predict' && model.task === 'classifier')) {
        expect(got[method]!.data, method).toEqual(flat);
      } else {
        expectClose(got[method]!.data as number[], nums(want), 1e-9, 1e-12);
      }
    }
  });
});

describe('MurmurHash3 (x86, 32-bit) matches sklearn.utils.murmurhash3_32 on UTF-8 bytes', () => {
  // values printed by scikit-learn 1.2.1: murmurhash3_32(s.encode('utf-8'), 0)
  const cases: [string, number][] = [
    ['', 0],
    ['a', 1009084850],
    ['ab', -1681926305],
    ['abc', -1277324294],
    ['abcd', 1139631978],
    ['hello world', 1586663183],
    ['Über café', 508453163],
    ['東京', -1765863102],
  ];
  it.each(cases)('%j → %i', (s, h) => {
    expect(murmurhash3(new TextEncoder().encode(s))).toBe(h);
  });
});

describe('ndtri (Cephes) matches scipy.special.ndtri', () => {
  // scipy 1.10.1: ndtri(q) for q in each Cephes branch, printed with repr
  const cases: [number, number][] = [
    [0.5, 0],
    [0.3, -0.5244005127080409],
    [0.9, 1.2815515655446004],
    [1e-7, -5.1993375821928165],
    [1e-20, -9.262340089798409],
    [0, Number.NEGATIVE_INFINITY],
    [1, Number.POSITIVE_INFINITY],
  ];
  it.each(cases)('ndtri(%d) = %d', (q, want) => {
    const got = ndtri(q);
    if (Number.isFinite(want)) expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(want)));
    else expect(got).toBe(want);
  });
});

describe('through a real ModelServer (HTTP on 127.0.0.1)', () => {
  let server: ModelServer;
  let base = '';
  const served = ['hashing_vectorizer_logreg', 'knn_imputer_distance', 'label_binarizer_strings', 'spline_periodic'];
  const caseOf = (name: string): Case => expected.cases.find((c) => c.name === name)!;

  beforeAll(async () => {
    ({ server, base } = await serveOnLoopback(
      served.map((n) => new SklearnModel(n, { path: localFixture(`transformers/${caseOf(n).file}`) })),
    ));
  });
  afterAll(async () => {
    await server.stop();
  });

  const post = (path: string, body: unknown) => postJson(base, path, body);

  it('V1 HashingVectorizer → LogisticRegression: documents in, predict and predict_proba out', async () => {
    const c = caseOf('hashing_vectorizer_logreg');
    const p = await post('/v1/models/hashing_vectorizer_logreg:predict', { instances: c.inputs });
    expect(p.status).toBe(200);
    expect(p.json.predictions).toEqual(c.methods.predict);
    const q = await post('/v1/models/hashing_vectorizer_logreg:predict', {
      instances: c.inputs,
      parameters: { method: 'predict_proba' },
    });
    expectClose(nums(q.json.predictions as unknown[]), nums(c.methods.predict_proba!), 1e-9);
  });

  it('V1 KNNImputer: null is missing, the transform comes back imputed', async () => {
    const c = caseOf('knn_imputer_distance');
    const r = await post('/v1/models/knn_imputer_distance:predict', { instances: c.inputs });
    expect(r.status).toBe(200);
    expectClose(nums(r.json.predictions as unknown[]), nums(c.methods.transform!), 1e-9);
  });

  it('V1 LabelBinarizer: string labels in, indicator rows out (an unseen label is an all-zero row)', async () => {
    const c = caseOf('label_binarizer_strings');
    const r = await post('/v1/models/label_binarizer_strings:predict', { instances: [...c.inputs, 'zebra'] });
    expect(r.status).toBe(200);
    expect(r.json.predictions).toEqual([...(c.methods.transform as number[][]), [0, 0, 0, 0]]);
  });

  it('V2 SplineTransformer(periodic): an FP64 tensor in, the basis out; a wrong width is a 400', async () => {
    const c = caseOf('spline_periodic');
    const rows = c.inputs as number[][];
    const r = await post('/v2/models/spline_periodic/infer', {
      inputs: [{ name: 'X', shape: [rows.length, 2], datatype: 'FP64', data: rows.flat() }],
    });
    expect(r.status).toBe(200);
    expectClose((r.json.outputs as { data: number[] }[])[0]!.data, nums(c.methods.transform!), 1e-9);
    const bad = await post('/v2/models/spline_periodic/infer', {
      inputs: [{ name: 'X', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }],
    });
    expect(bad.status).toBe(400);
  });
});
