// Every model under fixtures/sklearn, fixtures/xgboost (each of .json/.ubj/.bst) and fixtures/kserve-examples,
// built exactly as `servekit serve` builds them (modelsFromDir), served over real sockets; V1 and V2 answers
// must match the real libraries' outputs in expected.json.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GrpcClient, RestClient } from '@servekit/client';
import { type InferResponse, ModelServer, type ParsedFlags } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelsFromDir } from '../src/detect.js';

const FIX = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
const read = <T>(p: string): T => JSON.parse(readFileSync(join(FIX, p), 'utf8')) as T;
const SKLEARN = readdirSync(join(FIX, 'sklearn')).sort();
const XGB = readdirSync(join(FIX, 'xgboost')).sort();
const XGB_FILES = ['model.json', 'model.ubj', 'model.bst'];

function close(got: unknown, want: unknown, rel: number, where: string): void {
  if (Array.isArray(want)) {
    expect(Array.isArray(got), where).toBe(true);
    expect((got as unknown[]).length, where).toBe(want.length);
    want.forEach((w, i) => {
      close((got as unknown[])[i], w, rel, `${where}[${i}]`);
    });
    return;
  }
  if (typeof want === 'number') {
    expect(Math.abs((got as number) - want), `${where}: ${got} vs ${want}`).toBeLessThanOrEqual(
      1e-7 + rel * Math.abs(want),
    );
    return;
  }
  expect(got, where).toEqual(want);
}

/** Trees compute in float32 (1e-4); linear/kernel models in float64 (1e-6); ORT's SVM kernels in float32. */
const tolerance = (name: string) => (/tree|forest|boosting/.test(name) ? 1e-4 : 1e-6);

describe('sklearn, XGBoost and KServe example models over the wire', () => {
  let server: ModelServer;
  let rest: RestClient;
  let grpc: GrpcClient;
  const scratch = mkdtempSync(join(tmpdir(), 'servekit-xgb-'));
  const flags: ParsedFlags = {};

  beforeAll(async () => {
    server = new ModelServer({
      httpPort: 0,
      grpcPort: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      defaultMetrics: false,
    });
    const dirs: Array<[string, string]> = [
      ...SKLEARN.map((n) => [`sk-${n}`, join(FIX, 'sklearn', n)] as [string, string]),
      ...['sklearn_svc_iris', 'sklearn_mixedtype_pipeline', 'xgboost_iris_softmax', 'lightgbm_iris'].map(
        (n) => [n, join(FIX, 'kserve-examples', n)] as [string, string],
      ),
    ];
    // One folder per XGBoost save format, so each file is detected and served on its own.
    for (const n of XGB) {
      for (const f of XGB_FILES) {
        const dir = join(scratch, `${n}-${f.split('.')[1]}`);
        cpSync(join(FIX, 'xgboost', n, f), join(dir, f));
        dirs.push([`xgb-${n}-${f.split('.')[1]}`, dir]);
      }
    }
    for (const [name, dir] of dirs) {
      for (const m of await modelsFromDir(name, dir, flags)) server.repository.register(m.model, m.version);
    }
    await server.start();
    rest = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
    grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}` });
  }, 120_000);
  afterAll(async () => {
    rest.close();
    grpc.close();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('loads every model', async () => {
    const index = await rest.repositoryIndex();
    expect(index.filter((e) => e.state !== 'READY')).toEqual([]);
  });

  it.each(SKLEARN)('sklearn/%s: V1 predict and predict_proba, V2 and gRPC predict equal sklearn', async (name) => {
    const e = read<{ inputs: unknown[]; predict: unknown[]; predict_proba?: number[][] }>(
      `sklearn/${name}/expected.json`,
    );
    const model = `sk-${name}`;
    const rel = tolerance(name);
    close((await rest.v1Predict(model, { instances: e.inputs })).predictions, e.predict, rel, `${model} V1`);
    if (e.predict_proba) {
      const proba = await rest.v1Predict(model, { instances: e.inputs, parameters: { predict_proba: true } });
      close(proba.predictions, e.predict_proba, rel, `${model} V1 predict_proba`);
    }
    if (name === 'churn') return; // dict rows: V1 only (DictVectorizer front end)
    const rows = e.inputs as number[][];
    const request = {
      inputs: [
        {
          name: 'input-0',
          datatype: 'FP64' as const,
          shape: [rows.length, rows[0]!.length],
          data: Float64Array.from(rows.flat()),
        },
      ],
    };
    for (const res of [await rest.infer(model, request), await grpc.infer(model, request)]) {
      close(Array.from(res.outputs[0]!.data as ArrayLike<number | bigint>, Number), e.predict, rel, `${model} V2`);
    }
  });

  it.each(XGB.flatMap((n) => XGB_FILES.map((f) => [n, f] as const)))(
    'xgboost/%s/%s equals Booster.predict() and output_margin',
    async (name, file) => {
      const e = read<{ inputs: number[][]; booster_predict: unknown[]; booster_predict_output_margin: unknown[] }>(
        `xgboost/${name}/expected.json`,
      );
      const model = `xgb-${name}-${file.split('.')[1]}`;
      close((await rest.v1Predict(model, { instances: e.inputs })).predictions, e.booster_predict, 1e-5, `${model} V1`);
      const margin = await rest.v1Predict(model, { instances: e.inputs, parameters: { output_margin: true } });
      close(margin.predictions, e.booster_predict_output_margin, 1e-4, `${model} margin`);
      const request = {
        inputs: [
          {
            name: 'input-0',
            datatype: 'FP32' as const,
            shape: [e.inputs.length, e.inputs[0]!.length],
            data: Float32Array.from(e.inputs.flat()),
          },
        ],
      };
      const res: InferResponse = await grpc.infer(model, request);
      expect(res.outputs.map((o) => o.name)).toEqual(['predict']);
      close(
        Array.from(res.outputs[0]!.data as Float32Array),
        (e.booster_predict as Array<number | number[]>).flat(),
        1e-5,
        `${model} gRPC`,
      );
    },
  );

  it("answers KServe's own example requests as KServe's tests assert", async () => {
    const svc = read<{ kserve_test: { request_v1: { instances: number[][] }; response_v1: unknown } }>(
      'kserve-examples/sklearn_svc_iris/expected.json',
    );
    expect(await rest.v1Predict('sklearn_svc_iris', svc.kserve_test.request_v1)).toEqual(svc.kserve_test.response_v1);
    const v2 = await rest.infer('sklearn_svc_iris', {
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: Float32Array.from([5.1, 3.5, 1.4, 0.2]) }],
    });
    expect(Array.from(v2.outputs[0]!.data as BigInt64Array, Number)).toEqual([0]);

    const mixed = read<{
      kserve_test: { request_v1: { instances: unknown[] }; response_v1: { predictions: number[] } };
    }>('kserve-examples/sklearn_mixedtype_pipeline/expected.json');
    close(
      (await rest.v1Predict('sklearn_mixedtype_pipeline', mixed.kserve_test.request_v1)).predictions,
      mixed.kserve_test.response_v1.predictions,
      1e-9,
      'mixedtype V1',
    );
    const columns = mixed.kserve_test.request_v1.instances[0] as Record<string, Array<string | number>>;
    const v2mixed = await rest.infer('sklearn_mixedtype_pipeline', {
      parameters: { content_type: 'pd' },
      inputs: Object.entries(columns).map(([name, v]) =>
        typeof v[0] === 'number'
          ? { name, datatype: 'INT32' as const, shape: [1], data: Int32Array.from(v as number[]) }
          : { name, datatype: 'BYTES' as const, shape: [1], data: v as string[] },
      ),
    });
    close(
      Array.from(v2mixed.outputs[0]!.data as Float64Array),
      mixed.kserve_test.response_v1.predictions,
      1e-9,
      'mixedtype V2',
    );

    expect(await rest.v1Predict('xgboost_iris_softmax', { instances: [[5.1, 3.5, 1.4, 0.2]] })).toEqual({
      predictions: [0],
    });

    const lgb = read<{
      kserve_test: { request_v2_input: { data: number[][] }; response_v2_outputs: Array<{ data: number[] }> };
    }>('kserve-examples/lightgbm_iris/expected.json');
    const rows = lgb.kserve_test.request_v2_input.data;
    const lres = await rest.infer('lightgbm_iris', {
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [2, 4], data: Float32Array.from(rows.flat()) }],
    });
    close(
      Array.from(lres.outputs[0]!.data as Float32Array),
      lgb.kserve_test.response_v2_outputs[0]!.data,
      1e-4,
      'lightgbm V2',
    );
    const named = await rest.v1Predict('lightgbm_iris', {
      instances: [
        { 'sepal_length_(cm)': 5.1, 'sepal_width_(cm)': 3.5, 'petal_length_(cm)': 1.4, 'petal_width_(cm)': 0.2 },
      ],
    });
    const [p] = named.predictions as number[][];
    expect(p!.indexOf(Math.max(...p!))).toBe(0);
  });
});
