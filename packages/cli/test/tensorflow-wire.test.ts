// Every SavedModel under fixtures/tf, built as `servekit serve --tf_engine tfjs` builds it (the ONNX path:
// tensorflow-onnx-wire.test.ts), answers its expected.json cases over
// V2 REST (JSON and binary), gRPC and V1 (TF Serving's `instances` / `inputs` forms); mutating signatures are
// refused with a clear error while the pure ones of the same model serve.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GrpcClient, RestClient } from '@servekit/client';
import { type InferRequest, type InferTensor, ModelServer, tensorToJson } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TensorCase, tensorCases, tensorFromCase } from '../../tf/test/helpers.js';
import { modelsFromDir } from '../src/detect.js';

const TF = fileURLToPath(new URL('../../../../shared/fixtures/tf/', import.meta.url));

const models = readdirSync(TF).filter((d) => !d.startsWith('_') && !d.endsWith('.json'));
const cases = tensorCases.map(({ label, name, c }) => [label, name, c] as const);

const nums = (t: InferTensor) => Array.from(t.data as ArrayLike<number | bigint>, Number);

describe('TensorFlow SavedModels over the wire', () => {
  let server: ModelServer;
  let rest: RestClient;
  let grpc: GrpcClient;
  beforeAll(async () => {
    server = new ModelServer({
      httpPort: 0,
      grpcPort: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      defaultMetrics: false,
    });
    for (const name of models) {
      for (const m of await modelsFromDir(name, join(TF, name), { tf_backend: 'wasm', tf_engine: 'tfjs' })) {
        server.repository.register(m.model, m.version);
      }
    }
    await server.start();
    rest = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
    grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}` });
  }, 120_000);
  afterAll(async () => {
    rest.close();
    grpc.close();
    await server.stop();
  });

  it('loads every SavedModel', async () => {
    expect((await rest.repositoryIndex()).filter((e) => e.state !== 'READY')).toEqual([]);
  });

  it.each(cases)('%s over V2 JSON, binary, gRPC and V1', async (_label, name, c) => {
    const inputs = Object.entries(c.inputs!).map(([k, v]) => tensorFromCase(k, v as TensorCase));
    const request: InferRequest = { parameters: { signature_name: c.signature! }, inputs };
    const tol = c.tolerance ?? 1e-5;
    for (const res of [
      await rest.infer(name, request),
      await rest.infer(name, request, { binary: true, binaryOutputs: true }),
      await grpc.infer(name, request),
    ]) {
      for (const [key, want] of Object.entries(c.outputs!)) {
        const got = res.outputs.find((o) => o.name === key);
        expect(got, `${name} output ${key}`).toBeDefined();
        const g = nums(got!);
        want.data.forEach((w, i) => {
          expect(Math.abs(g[i]! - w), `${name} ${key}[${i}]`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
        });
      }
    }
    // V1, TF Serving's columnar form: {"signature_name", "inputs": {name: nested values}} → {"outputs": …}.
    const columnar: Record<string, unknown> = {};
    for (const t of inputs) columnar[t.name] = tensorToJson(t);
    const v1 = (await rest.v1Predict(name, { signature_name: c.signature!, inputs: columnar })) as { outputs: unknown };
    const keys = Object.keys(c.outputs!);
    const outs = keys.length === 1 ? { [keys[0]!]: v1.outputs } : (v1.outputs as Record<string, unknown>);
    for (const key of keys) {
      const got = [outs[key]].flat(4) as number[];
      c.outputs![key]!.data.forEach((w, i) => {
        expect(Math.abs(got[i]! - w), `${name} V1 ${key}[${i}]`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
      });
    }
  });

  it('refuses variable-updating signatures with a clear error and keeps the pure ones', async () => {
    const counter = await fetch(`http://127.0.0.1:${server.httpPort}/v2/models/serving_counter/infer`, {
      method: 'POST',
      body: JSON.stringify({
        parameters: { signature_name: 'incr_counter' },
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [0] }],
      }),
    });
    expect(counter.status).toBe(501);
    expect(((await counter.json()) as { error: string }).error).toMatch(/incr_counter.*updates variables|AssignAdd/);
    const train = await fetch(`http://127.0.0.1:${server.httpPort}/v2/models/tfrust_regression/infer`, {
      method: 'POST',
      body: JSON.stringify({
        parameters: { signature_name: 'train' },
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [0] }],
      }),
    });
    expect(train.status).toBe(501);
    const badShape = await fetch(`http://127.0.0.1:${server.httpPort}/v2/models/tfrust_keras_single_input/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'test_in_input', datatype: 'FP32', shape: [5], data: [1, 2, 3, 4, 5] }],
      }),
    });
    expect(badShape.status).toBe(400);
    expect(((await badShape.json()) as { error: string }).error).toMatch(
      /cannot run on test_in_input \[5\] \(declared: test_in_input \[-1,5\]\)/,
    );
    const w = await grpc.infer('tfrust_regression', { parameters: { signature_name: 'w' }, inputs: [] });
    expect(nums(w.outputs[0]!)[0]).toBeCloseTo(0.2042975, 6);
  });
});
