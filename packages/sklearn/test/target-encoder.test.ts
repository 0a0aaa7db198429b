// Real TargetEncoder files: fitted and pickled by Debian 13 "trixie"'s scikit-learn 1.4.2 on NumPy 2.2, and the same
// models by Debian 14 "forky"'s 1.9.0 on NumPy 2.4 (gen_target_encoder_trixie.py; versions in expected.json), with scikit-learn's own transform / predict outputs:
// string, int and float categories (NaN a category), unknowns, binary / multiclass / continuous targets, smooth='auto'
// and a float, and pipelines into Ridge, LogisticRegression and HistGradientBoostingClassifier. Only `transform` is
// served (fit_transform's cross fitting is training-time only).
import { type InferContext, ModelServer, type V1Response } from '@servekit/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSklearnModel, SklearnModel } from '../src/index.js';
import { expectClose, localFixture, readJson } from './helpers.js';

interface Case {
  name: string;
  file: string;
  inputs: unknown[];
  methods: Record<string, unknown[]>;
}

/** Each folder of real fixtures and the scikit-learn version that wrote it. */
const FOLDERS = [
  { dir: 'target-encoder', sklearn: '1.4.2' },
  { dir: 'target-encoder-forky', sklearn: '1.9.0' },
] as const;
const read = (dir: string) =>
  readJson<{ versions: Record<string, string>; cases: Case[] }>(localFixture(`${dir}/expected.json`));
const expected = read('target-encoder');
const ctx: InferContext = { headers: {}, protocol: 'v1', requestId: 'r1', signal: new AbortController().signal };
const nums = (v: unknown[]): number[] => (v.flat(2) as unknown[]).map((x) => (x === null ? Number.NaN : (x as number)));
/** Labels compare exactly; regressors' predict and every other output numerically. */
const isLabel = (c: Case, method: string): boolean => method === 'predict' && !/ridge/.test(c.name);
/**
 * 1e-9 relative, except behind HistGradientBoostingClassifier, whose leaf values onnxruntime's TreeEnsemble keeps in
 * float32 (1e-6 there).
 */
const rtolOf = (c: Case): number => (/hgb/.test(c.name) ? 1e-6 : 1e-9);

describe.each(FOLDERS)('$dir: scikit-learn $sklearn', ({ dir, sklearn }) => {
  const fixtures = read(dir);
  it('the fixtures were pickled by that real scikit-learn on NumPy 2', () => {
    expect(fixtures.versions.sklearn).toBe(sklearn);
    expect(fixtures.versions.numpy).toMatch(/^2\./);
    expect(fixtures.cases.length).toBeGreaterThanOrEqual(13);
  });

  describe.each(fixtures.cases.map((c) => [c.name, c] as const))('TargetEncoder %s', (_name, c) => {
    it('converts in-process to a graph serving the same methods, each matching', async () => {
      const model = await loadSklearnModel(localFixture(`${dir}/${c.file}`));
      expect(Object.keys(model.methods).sort()).toEqual(Object.keys(c.methods).sort());
      const session = await ort.InferenceSession.create(model.onnx);
      const feeds: Record<string, ort.Tensor> = {};
      for (const f of model.encoder.encodeInstances(c.inputs)) {
        feeds[f.name] = new ort.Tensor(f.type === 'DOUBLE' ? 'float64' : 'string', f.data, f.dims);
      }
      const out = await session.run(feeds);
      await session.release();
      for (const [method, { output }] of Object.entries(model.methods)) {
        const got = Array.from(out[output]!.data as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : v));
        const want = c.methods[method]!;
        if (isLabel(c, method)) expect(got, method).toEqual(want.flat(2));
        else expectClose(got as number[], nums(want), rtolOf(c), 1e-12);
      }
    });
    it('matches every method through SklearnModel', async () => {
      const m = new SklearnModel(c.name, { path: localFixture(`${dir}/${c.file}`) });
      await m.load();
      try {
        for (const [method, want] of Object.entries(c.methods)) {
          const res = (await m.predict({ instances: c.inputs, parameters: { method } }, ctx)) as V1Response;
          const got = (res.predictions as unknown[]).flat(2);
          if (isLabel(c, method)) expect(got, method).toEqual(want.flat(2));
          else expectClose(got as number[], nums(want), rtolOf(c), 1e-12);
        }
      } finally {
        await m.unload();
      }
    });
  });
});

describe('TargetEncoder behind a real ModelServer (HTTP on 127.0.0.1)', () => {
  let server: ModelServer;
  let base = '';
  const strings = expected.cases.find((c) => c.name === 'te_multiclass_strings')!;
  beforeAll(async () => {
    server = new ModelServer({ httpPort: 0, host: '127.0.0.1', enableGrpc: false, logLevel: 'silent' });
    const { httpPort } = await server.start([
      new SklearnModel('te', { path: localFixture(`target-encoder/${strings.file}`) }),
    ]);
    base = `http://127.0.0.1:${httpPort}`;
  });
  afterAll(async () => {
    await server.stop();
  });

  it('V1 string rows (null = the missing category, unknown strings → target mean): transform', async () => {
    const res = await fetch(`${base}/v1/models/te:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: strings.inputs }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: number[][] };
    expect(body.predictions[0]).toHaveLength(6); // 2 features × 3 classes
    expectClose(body.predictions.flat(), nums(strings.methods.transform!), 1e-9, 1e-12);
  });

  it('a row of the wrong width is a 400', async () => {
    const res = await fetch(`${base}/v1/models/te:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [['red']] }),
    });
    expect(res.status).toBe(400);
  });
});
