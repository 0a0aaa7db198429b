// `servekit serve` as a real process: format detection per fixture, multi-model dirs, storage URIs, flags.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient } from '@servekit/client';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, FIX, killAll, post, ROOT, serve, stop } from './cli-process.js';

afterAll(killAll);

describe('servekit serve', () => {
  it('serves the sklearn churn model.joblib: V1 dict rows → labels, PREDICT_PROBA=true → probabilities', async () => {
    const expected = JSON.parse(readFileSync(join(FIX, 'sklearn/churn/expected.json'), 'utf8')) as {
      inputs: unknown[];
      predict: number[];
      predict_proba: number[][];
    };
    const r = await serve(['--model_dir', join(FIX, 'sklearn/churn'), '--model_name', 'churn']);
    const labels = await post(`${r.base}/v1/models/churn:predict`, { instances: expected.inputs });
    expect(labels.body.predictions).toEqual(expected.predict);
    expect(await stop(r)).toBe(0);

    const p = await serve(['--model_dir', join(FIX, 'sklearn/churn'), '--model_name', 'churn'], {
      PREDICT_PROBA: 'true',
    });
    const probs = (await post(`${p.base}/v1/models/churn:predict`, { instances: expected.inputs })).body
      .predictions as number[][];
    for (const [i, row] of probs.entries()) {
      for (const [j, v] of row.entries()) expect(v).toBeCloseTo(expected.predict_proba[i]![j]!, 6);
    }
    expect(await stop(p)).toBe(0);
  });

  it('serves an ONNX ZipMap classifier over V2 REST and gRPC with the outputs its file declares', async () => {
    const r = await serve(['--model_dir', join(FIX, 'onnx/sklearn-onnx-docs/logreg_iris'), '--model_name', 'iris']);
    const req = { inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 2], data: [5.1, 3.5, 7.0, 3.2] }] };
    const res = await post(`${r.base}/v2/models/iris/infer`, req);
    const outputs = res.body.outputs as Array<{ name: string; shape: number[]; data: number[] }>;
    expect(outputs.map((o) => o.name)).toEqual(['output_label', 'output_probability']);
    expect(outputs[0]!.data).toEqual([0, 2]);
    expect(outputs[1]!.shape).toEqual([2, 3]);
    const grpc = new GrpcClient({ address: r.grpc });
    const g = await grpc.infer('iris', {
      inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([5.1, 3.5, 7.0, 3.2]) }],
    });
    expect(Array.from(g.outputs[0]!.data as BigInt64Array, Number)).toEqual([0, 2]);
    grpc.close();
    expect(await stop(r)).toBe(0);
  });

  it('serves XGBoost and LightGBM files as Booster.predict() does', async () => {
    const xgbExpected = JSON.parse(readFileSync(join(FIX, 'xgboost/iris_multiclass/expected.json'), 'utf8')) as {
      inputs: number[][];
      booster_predict: number[][];
    };
    const x = await serve(['--model_dir', join(FIX, 'xgboost/iris_multiclass'), '--model_name', 'xgb']);
    const got = (await post(`${x.base}/v1/models/xgb:predict`, { instances: xgbExpected.inputs })).body
      .predictions as number[][];
    for (const [i, row] of got.entries()) {
      for (const [j, v] of row.entries()) expect(v).toBeCloseTo(xgbExpected.booster_predict[i]![j]!, 5);
    }
    expect(await stop(x)).toBe(0);

    const l = await serve(['--model_dir', join(FIX, 'kserve-examples/lightgbm_iris'), '--model_name', 'lgb']);
    const res = await post(`${l.base}/v1/models/lgb:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] });
    const [row] = res.body.predictions as number[][];
    expect(row!.indexOf(Math.max(...row!))).toBe(0);
    expect(await stop(l)).toBe(0);
  });

  it('serves a TF Serving versions layout: newest version by default, older by path', async () => {
    const r = await serve(['--model_dir', join(FIX, 'tf/serving_half_plus_two_2_versions'), '--model_name', 'hpt']);
    expect((await post(`${r.base}/v1/models/hpt:predict`, { instances: [1, 2] })).body.predictions).toEqual([2.5, 3]);
    const md = (await (await fetch(`${r.base}/v2/models/hpt`)).json()) as { versions: string[] };
    expect(md.versions).toEqual(['123', '124']);
    const v = await post(`${r.base}/v2/models/hpt/versions/123/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [4] }],
    });
    expect((v.body.outputs as Array<{ data: number[] }>)[0]!.data).toEqual([4]);
    expect(await stop(r)).toBe(0);
  });

  it('serves a multi-model dir of mixed formats and keeps serving when one model is broken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'servekit-multi-'));
    try {
      cpSync(join(FIX, 'sklearn/iris_logreg'), join(dir, 'sk'), { recursive: true });
      cpSync(join(FIX, 'onnx/sklearn-onnx-docs/logreg_iris'), join(dir, 'onnx'), { recursive: true });
      cpSync(join(FIX, 'onnx/invalid/mnist_cntk_opset1'), join(dir, 'broken'), { recursive: true });
      mkdirSync(join(dir, 'empty'));
      writeFileSync(join(dir, 'empty', 'README'), 'no model here');
      const r = await serve(['--model_dir', dir]);
      const index = (await post(`${r.base}/v2/repository/index`, {})).body as unknown as Array<{
        name: string;
        state: string;
        reason?: string;
      }>;
      const byName = Object.fromEntries(index.map((e) => [e.name, e]));
      expect(byName.sk!.state).toBe('READY');
      expect(byName.onnx!.state).toBe('READY');
      expect(byName.broken!.state).toBe('UNAVAILABLE');
      expect(byName.broken!.reason).toMatch(/Add\(1\)|opset/);
      // A sub-folder holding no model file is no model: it is ignored, not listed as a broken one.
      expect(byName.empty).toBeUndefined();
      const broken = await post(`${r.base}/v1/models/broken:predict`, { instances: [[1]] });
      expect(broken.status).toBe(503);
      const ok = await post(`${r.base}/v1/models/sk:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] });
      expect(ok.body.predictions).toEqual([0]);
      expect(await stop(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('downloads the model from --storage_uri (a local HTTP server) and serves it', async () => {
    const file = readFileSync(join(FIX, 'sklearn/churn/model.joblib'));
    const http: Server = createServer((req, res) => {
      if (req.url === '/models/model.joblib') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.byteLength });
        res.end(file);
      } else res.writeHead(404).end();
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const cache = mkdtempSync(join(tmpdir(), 'servekit-cache-'));
    try {
      const port = (http.address() as { port: number }).port;
      const r = await serve([
        '--storage_uri',
        `http://127.0.0.1:${port}/models/model.joblib`,
        '--storage_cache_dir',
        cache,
        '--model_name',
        'churn',
      ]);
      expect((await fetch(`${r.base}/v2/models/churn/ready`)).status).toBe(200);
      expect(await stop(r)).toBe(0);
    } finally {
      http.close();
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('rejects an unknown flag with the list of known ones', async () => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--no_such_flag', '1'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    const [code] = await once(proc, 'exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(/no_such_flag/);
    expect(stderr).toMatch(/Known flags: .*--http_port/);
  });

  it('servekit convert writes the ONNX graph of a joblib model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'servekit-convert-'));
    try {
      const out = join(dir, 'churn.onnx');
      const proc = spawn(process.execPath, [BIN, 'convert', join(FIX, 'sklearn/churn/model.joblib'), '-o', out], {
        cwd: ROOT,
      });
      const [code] = await once(proc, 'exit');
      expect(code).toBe(0);
      expect(readFileSync(out).byteLength).toBeGreaterThan(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
