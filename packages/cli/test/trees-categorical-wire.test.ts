// XGBoost and LightGBM models with categorical splits and CatBoost JSON models (packages/xgboost/test/fixtures),
// detected and built exactly as `servekit serve` builds them (modelsFromDir), served over real sockets; V1 and
// V2 JSON answers must equal the expected.json of each fixture.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RestClient } from '@servekit/client';
import { ModelServer, type ParsedFlags } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat, modelsFromDir } from '../src/detect.js';

const FIX = fileURLToPath(new URL('../../xgboost/test/fixtures/', import.meta.url));
const read = <T>(p: string): T => JSON.parse(readFileSync(join(FIX, p), 'utf8')) as T;

/** Served name → fixture folder and the one file copied into the model folder. */
const MODELS: Record<string, [string, string]> = {
  'xgb-reg-partition': ['xgboost-categorical/reg_partition', 'model.json'],
  'xgb-multi-partition': ['xgboost-categorical/multi_softprob_partition', 'model.ubj'],
  'lgb-categorical': ['lightgbm-categorical', 'model.txt'],
  'lgb-ruby-categorical': ['lightgbm-ruby-categorical', 'model.txt'],
  'cb-binary': ['catboost/binary_onehot', 'model.json'],
  'cb-multi': ['catboost/multiclass_onehot', 'model.json'],
  'cb-regression': ['catboost/regression_float', 'model.json'],
  'cb-tiny': ['catboost/tiny_binary_wafer', 'model.json'],
};

function close(got: unknown, want: unknown, where: string): void {
  if (Array.isArray(want)) {
    expect((got as unknown[]).length, where).toBe(want.length);
    want.forEach((w, i) => {
      close((got as unknown[])[i], w, `${where}[${i}]`);
    });
    return;
  }
  const g = got as number;
  const w = want as number;
  expect(Math.abs(g - w), `${where}: ${g} vs ${w}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(w));
}

/** A V2 JSON request of FP32 rows (NaN for null). */
const v2 = (rows: (number | null)[][]) => ({
  inputs: [
    {
      name: 'input-0',
      datatype: 'FP32' as const,
      shape: [rows.length, rows[0]!.length],
      data: Float32Array.from(rows.flat(), (v) => (v === null ? Number.NaN : v)),
    },
  ],
});

describe('categorical tree models and CatBoost over the wire', () => {
  let server: ModelServer;
  let rest: RestClient;
  const scratch = mkdtempSync(join(tmpdir(), 'servekit-cat-'));
  const flags: ParsedFlags = {};
  const formats: Record<string, string | undefined> = {};

  beforeAll(async () => {
    server = new ModelServer({
      httpPort: 0,
      grpcPort: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      defaultMetrics: false,
    });
    for (const [name, [folder, file]] of Object.entries(MODELS)) {
      const dir = join(scratch, name);
      cpSync(join(FIX, folder, file), join(dir, file));
      formats[name] = detectFormat(dir)?.name;
      for (const m of await modelsFromDir(name, dir, flags)) server.repository.register(m.model, m.version);
    }
    await server.start();
    rest = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
  }, 120_000);
  afterAll(async () => {
    rest.close();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('detects each format from the file content and loads every model', async () => {
    expect(formats).toEqual({
      'xgb-reg-partition': 'xgboost',
      'xgb-multi-partition': 'xgboost',
      'lgb-categorical': 'lightgbm',
      'lgb-ruby-categorical': 'lightgbm',
      'cb-binary': 'catboost',
      'cb-multi': 'catboost',
      'cb-regression': 'catboost',
      'cb-tiny': 'catboost',
    });
    const index = await rest.repositoryIndex();
    expect(index.filter((e) => e.state !== 'READY')).toEqual([]);
  });

  it('detects a CatBoost binary model.cbm as catboost, loads a real one and refuses a truncated one', async () => {
    const dir = join(scratch, 'cbm');
    mkdirSync(dir);
    cpSync(join(FIX, 'catboost-cbm/iris.cbm'), join(dir, 'model.cbm'));
    expect(detectFormat(dir)?.name).toBe('catboost');
    const [served] = await modelsFromDir('cbm', dir, flags);
    await served!.model.load();
    const bad = join(scratch, 'cbm-truncated');
    mkdirSync(bad);
    writeFileSync(join(bad, 'model.cbm'), Buffer.from('CBM1\u0000\u0000\u0000\u0000'));
    expect(detectFormat(bad)?.name).toBe('catboost');
    const [truncated] = await modelsFromDir('cbm-truncated', bad, flags);
    await expect(truncated!.model.load()).rejects.toThrow(
      'cannot read CatBoost binary model: the model core is 0 bytes but the file has 0 after the header',
    );
  });

  it.each([
    ['xgb-reg-partition', 'xgboost-categorical/reg_partition'],
    ['xgb-multi-partition', 'xgboost-categorical/multi_softprob_partition'],
  ])('%s: V1 and V2 equal Booster.predict() on category codes, unseen codes and NaN', async (model, folder) => {
    const e = read<{ inputs: (number | null)[][]; booster_predict: number[]; booster_predict_output_margin: number[] }>(
      `${folder}/expected.json`,
    );
    close((await rest.v1Predict(model, { instances: e.inputs })).predictions, e.booster_predict, `${model} V1`);
    const margin = await rest.v1Predict(model, { instances: e.inputs, parameters: { output_margin: true } });
    close(margin.predictions, e.booster_predict_output_margin, `${model} V1 margin`);
    const res = await rest.infer(model, v2(e.inputs));
    close(Array.from(res.outputs[0]!.data as Float32Array), e.booster_predict.flat(), `${model} V2`);
  });

  it('refuses category names for an XGBoost model (XGBoost 1.7 records none) with a 400 that says what to send', async () => {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/v1/models/xgb-reg-partition:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [['red', 1, 0.5, 0.1]] }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(
      'instances[0][0] is a string, but the model records no category names for feature \\"color\\" (column 0): send its category code (a number).',
    );
    const numeric = await fetch(`http://127.0.0.1:${server.httpPort}/v1/models/cb-binary:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [['1.5', 'red', 2]] }),
    });
    expect(numeric.status).toBe(400);
    expect(await numeric.text()).toContain(
      'instances[0][0] is a string, but feature \\"amount\\" (column 0) is numeric.',
    );
  });

  it('lgb-categorical: V1 and V2 equal the reference evaluator (probability and raw_score)', async () => {
    const e = read<{ inputs: (number | null)[][]; raw_score: number[]; predict: number[] }>(
      'lightgbm-categorical/expected.json',
    );
    close((await rest.v1Predict('lgb-categorical', { instances: e.inputs })).predictions, e.predict, 'lgb V1');
    const raw = await rest.v1Predict('lgb-categorical', { instances: e.inputs, parameters: { raw_score: true } });
    close(raw.predictions, e.raw_score, 'lgb V1 raw');
    const res = await rest.infer('lgb-categorical', v2(e.inputs));
    close(Array.from(res.outputs[0]!.data as Float32Array), e.predict, 'lgb V2');
  });

  it("lgb-ruby-categorical: category names in V1 rows give the values the source's tests assert", async () => {
    const e = read<{ inputs: (number | string | null)[][]; predict: number[] }>(
      'lightgbm-ruby-categorical/expected.json',
    );
    const byName = await rest.v1Predict('lgb-ruby-categorical', { instances: e.inputs });
    close(byName.predictions, e.predict, 'lgb-ruby V1 names');
    const asObjects = e.inputs.map((r) => Object.fromEntries(r.map((v, i) => [`x${i}`, v])));
    close((await rest.v1Predict('lgb-ruby-categorical', { instances: asObjects })).predictions, e.predict, 'objects');
    const res = await rest.infer('lgb-ruby-categorical', v2([[3.7, 1.2, 7.2, 9]]));
    close(Array.from(res.outputs[0]!.data as Float32Array), [e.predict[0]!], 'lgb-ruby V2 code');
  });

  it.each([
    ['cb-binary', 'catboost/binary_onehot'],
    ['cb-multi', 'catboost/multiclass_onehot'],
    ['cb-regression', 'catboost/regression_float'],
  ])('%s: V1 and V2 equal the reference evaluator (predict and raw formula value)', async (model, folder) => {
    const e = read<{ inputs: (number | null)[][]; predict: number[]; raw_formula_val: number[] }>(
      `${folder}/expected.json`,
    );
    close((await rest.v1Predict(model, { instances: e.inputs })).predictions, e.predict, `${model} V1`);
    const raw = await rest.v1Predict(model, { instances: e.inputs, parameters: { raw_score: true } });
    close(raw.predictions, e.raw_formula_val, `${model} V1 raw`);
    const res = await rest.infer(model, v2(e.inputs));
    close(Array.from(res.outputs[0]!.data as Float32Array), e.predict.flat(), `${model} V2`);
  });

  it('cb-binary and cb-multi: category names (string_values, cat_features_hash) answer as their codes do', async () => {
    for (const [model, folder, col, names] of [
      ['cb-binary', 'catboost/binary_onehot', 1, ['red', 'green', 'blue', 'black']],
      ['cb-multi', 'catboost/multiclass_onehot', 1, ['round', 'square', 'oval']],
    ] as const) {
      const e = read<{ inputs: (number | null)[][]; predict: number[] }>(`${folder}/expected.json`);
      // Codes past the list and null match no one-hot split; so does a name the model never saw.
      const rows = e.inputs.map((r) => r.map((v, i) => (i === col ? (names[v as number] ?? 'never-seen') : v)));
      close((await rest.v1Predict(model, { instances: rows })).predictions, e.predict, `${model} V1 names`);
    }
  });

  it('cb-tiny: the real CatBoost file gives the raw value its source test expects', async () => {
    const e = read<{ inputs: number[][]; src_test_predict_raw: number }>('catboost/tiny_binary_wafer/expected.json');
    close((await rest.v1Predict('cb-tiny', { instances: e.inputs })).predictions, [e.src_test_predict_raw], 'cb-tiny');
  });
});
