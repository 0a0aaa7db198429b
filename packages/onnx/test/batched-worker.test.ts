import { fileURLToPath } from 'node:url';
import { ModelServer } from '@servekit/core';
import { OnnxModel } from '@servekit/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MLP = fileURLToPath(new URL('../../../../shared/fixtures/onnx/bench/mlp_784/model.onnx', import.meta.url));

/** A server of the mlp_784 fixture on its worker-thread session, batching when `batching` is given. */
async function serve(
  batching?: NonNullable<ConstructorParameters<typeof ModelServer>[0]>['batching'],
): Promise<ModelServer> {
  const server = new ModelServer({
    httpPort: 0,
    host: '127.0.0.1',
    enableGrpc: false,
    logLevel: 'silent',
    defaultMetrics: false,
    ...(batching ? { batching } : {}),
  });
  await server.start([new OnnxModel('mlp', { modelPath: MLP, execution: 'worker' })]);
  return server;
}

/** Request `i`: 1–3 rows of distinct values. */
function rows(i: number): { shape: number[]; data: Float32Array } {
  const n = 1 + (i % 3);
  return { shape: [n, 784], data: Float32Array.from({ length: n * 784 }, (_, k) => ((i * 31 + k * 7) % 97) / 97) };
}

/** POST request `i` (JSON when `i` is even, binary tensor extension when odd); the output as plain numbers. */
async function infer(port: number, i: number): Promise<{ shape: number[]; data: number[] }> {
  const { shape, data } = rows(i);
  const url = `http://127.0.0.1:${port}/v2/models/mlp/infer`;
  if (i % 2 === 0) {
    const body = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape, data: Array.from(data) }] });
    const res = await fetch(url, { method: 'POST', body });
    expect(res.status).toBe(200);
    const out = ((await res.json()) as { outputs: { shape: number[]; data: number[] }[] }).outputs[0]!;
    return { shape: out.shape, data: out.data };
  }
  const head = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape, parameters: { binary_data_size: data.byteLength } }],
    }),
  );
  const res = await fetch(url, {
    method: 'POST',
    body: Buffer.concat([head, Buffer.from(data.buffer)]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.byteLength) },
  });
  expect(res.status).toBe(200);
  const out = ((await res.json()) as { outputs: { shape: number[]; data: number[] }[] }).outputs[0]!;
  return { shape: out.shape, data: out.data };
}

describe('batching on a worker-thread ONNX session', () => {
  let batched: ModelServer;
  let plain: ModelServer;
  beforeAll(async () => {
    batched = await serve({ maxBatchSize: 32, maxLatencyMs: 20, maxInflightBatches: 1, maxQueueSize: 10_000 });
    plain = await serve();
  });
  afterAll(async () => {
    await batched.stop();
    await plain.stop();
  });

  it('answers 96 concurrent requests exactly like the unbatched server, in real batches', async () => {
    const ids = Array.from({ length: 96 }, (_, i) => i);
    const got = await Promise.all(ids.map((i) => infer(batched.httpPort!, i)));
    const want = await Promise.all(ids.map((i) => infer(plain.httpPort!, i)));
    for (const i of ids) {
      expect(got[i]!.shape, `request ${i}`).toEqual([1 + (i % 3), 10]);
      expect(got[i], `request ${i}`).toEqual(want[i]);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${batched.httpPort}/metrics`)).text();
    const sum = Number(/servekit_batch_size_sum\{[^}]*\} ([\d.e+]+)/.exec(metrics)?.[1]);
    const count = Number(/servekit_batch_size_count\{[^}]*\} ([\d.e+]+)/.exec(metrics)?.[1]);
    expect(sum).toBe(ids.reduce((s, i) => s + 1 + (i % 3), 0));
    expect(count).toBeLessThan(96); // several requests per batch
  });
});
