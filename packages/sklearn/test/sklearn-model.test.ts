import type { InferContext, InferResponse, V1Response } from '@servekit/core';
import { describe, expect, it } from 'vitest';
import { SklearnModel } from '../src/index.js';
import { expectClose, fixture, readJson } from './helpers.js';

const ctx = (protocol: 'v1' | 'v2'): InferContext => ({
  headers: {},
  protocol,
  requestId: 'r1',
  signal: new AbortController().signal,
});

describe('SklearnModel', () => {
  it('churn: V1 raw dicts → predict; predict_proba per request and by option', async () => {
    const exp = readJson<{ inputs: object[]; predict: number[]; predict_proba: number[][] }>(
      fixture('sklearn/churn/expected.json'),
    );
    const m = new SklearnModel('churn', { path: fixture('sklearn/churn/model.joblib') });
    await m.load();
    const res = (await m.predict({ instances: exp.inputs }, ctx('v1'))) as V1Response;
    expect(res.predictions).toEqual(exp.predict);
    const p = (await m.predict(
      { instances: exp.inputs, parameters: { predict_proba: true } },
      ctx('v1'),
    )) as V1Response;
    expectClose((p.predictions as number[][]).flat(), exp.predict_proba.flat(), 1e-6);
    const byOption = new SklearnModel('churn', { path: fixture('sklearn/churn/model.joblib'), predictProba: true });
    await byOption.load();
    const q = (await byOption.predict({ instances: exp.inputs.slice(0, 2) }, ctx('v1'))) as V1Response;
    expectClose((q.predictions as number[][]).flat(), exp.predict_proba.slice(0, 2).flat(), 1e-6);
    await m.unload();
    await byOption.unload();
  });

  it('svc_iris: KServe V1 and V2 (FP32 [1,4]) requests → [0]', async () => {
    const m = new SklearnModel('svc', { path: fixture('kserve-examples/sklearn_svc_iris/model.joblib') });
    await m.load();
    const v1 = (await m.predict({ instances: [[5.1, 3.5, 1.4, 0.2]] }, ctx('v1'))) as V1Response;
    expect(v1.predictions).toEqual([0]);
    const v2 = (await m.predict(
      {
        id: 'a',
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: Float32Array.of(5.1, 3.5, 1.4, 0.2) }],
      },
      ctx('v2'),
    )) as InferResponse;
    expect(v2.id).toBe('a');
    expect(v2.outputs[0]!.datatype).toBe('INT64');
    expect(Array.from(v2.outputs[0]!.data as BigInt64Array, Number)).toEqual([0]);
    expect(m.metadata().inputs[0]).toMatchObject({ datatype: 'FP64', shape: [-1, 4] });
    await m.unload();
  });

  it('mixedtype pipeline: V2 one tensor per column (INT32/BYTES, content_type pd) and V1 column dicts', async () => {
    const m = new SklearnModel('mixed', { path: fixture('kserve-examples/sklearn_mixedtype_pipeline/model.joblib') });
    await m.load();
    const row: Record<string, string | number> = {
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
    const inputs = Object.entries(row).map(([name, v]) =>
      typeof v === 'number'
        ? { name, datatype: 'INT32' as const, shape: [1], data: Int32Array.of(v) }
        : { name, datatype: 'BYTES' as const, shape: [1], data: [new TextEncoder().encode(v)] },
    );
    const v2 = (await m.predict({ inputs, parameters: { content_type: 'pd' } }, ctx('v2'))) as InferResponse;
    expectClose(v2.outputs[0]!.data as Float64Array, [12.202832815138274], 1e-6);
    const v1 = (await m.predict(
      { instances: [Object.fromEntries(Object.entries(row).map(([k, v]) => [k, [v]]))] },
      ctx('v1'),
    )) as V1Response;
    expectClose(v1.predictions as number[], [12.202832815138274], 1e-6);
    await expect(m.predict({ instances: [{ MSZoning: ['RL'] }] }, ctx('v1'))).rejects.toThrow(/missing column/);
    await expect(m.predict({ instances: [row], parameters: { predict_proba: true } }, ctx('v1'))).rejects.toThrow(
      /has no predict_proba/,
    );
    await m.unload();
  });

  it('null in a numeric feature means missing (NaN) for imputing pipelines', async () => {
    const c = readJson<{ cases: { name: string; inputs: (number | null)[][]; predict: number[] }[] }>(
      new URL('./fixtures/extra/expected.json', import.meta.url).pathname,
    ).cases.find((x) => x.name === 'hgb_regressor_nan')!;
    expect(c.inputs.flat().some((v) => v === null)).toBe(true);
    const m = new SklearnModel('hgb', {
      path: new URL('./fixtures/extra/hgb_regressor_nan.joblib', import.meta.url).pathname,
    });
    await m.load();
    const res = (await m.predict({ instances: c.inputs }, ctx('v1'))) as V1Response;
    expectClose(res.predictions as number[], c.predict, 1e-4);
    await m.unload();
  });
});
