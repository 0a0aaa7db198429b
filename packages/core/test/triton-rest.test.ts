// Triton's REST extensions with fetch: statistics (`/v2/models[/{name}[/versions/{v}]]/stats`), model configuration
// (`/v2/models/{name}/config`), classification (`"parameters": {"classification": k}` on a requested output) and
// the extension list of `GET /v2`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelServer } from '../src/server/model-server.js';
import { ClassifierModel, EchoModel, LinearModel, startServer } from './helpers.js';

let server: ModelServer;
let base: string;

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function infer(model: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  server = await startServer(
    [new LinearModel('linear'), new ClassifierModel('classifier'), new EchoModel('echo'), new LinearModel('batched')],
    { enableGrpc: false, batching: (name) => (name === 'batched' ? { maxBatchSize: 16, maxLatencyMs: 1 } : undefined) },
    (s) => {
      s.repository.register(new LinearModel('versioned', 10, 0), '1');
      s.repository.register(new LinearModel('versioned', 100, 0), '2');
    },
  );
  base = `http://127.0.0.1:${server.httpPort}`;
});

afterAll(() => server.stop());

describe('Triton REST extensions', () => {
  it('GET /v2 lists the extensions by Triton name', async () => {
    const { body } = await get('/v2');
    expect(body.extensions).toEqual([
      'binary_tensor_data',
      'classification',
      'model_configuration',
      'model_repository',
      'statistics',
    ]);
  });

  it('statistics: per model, per version and for all models, in Triton JSON', async () => {
    const x = { name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] };
    for (let i = 0; i < 2; i++) expect((await infer('linear', { inputs: [x] })).status).toBe(200);
    expect((await infer('linear', { inputs: [{ ...x, name: 'wrong' }] })).status).toBe(400);
    expect((await infer('versioned/versions/2', { inputs: [x] })).status).toBe(200);

    const { status, body } = await get('/v2/models/linear/stats');
    expect(status).toBe(200);
    const stats = (body.model_stats as Array<Record<string, unknown>>)[0]!;
    expect(stats).toMatchObject({
      name: 'linear',
      version: '',
      inference_count: 2,
      execution_count: 2,
      inference_stats: {
        success: { count: 2 },
        fail: { count: 1 },
        queue: { count: 0, ns: 0 },
        compute_input: { count: 2 },
        compute_infer: { count: 2 },
        compute_output: { count: 2 },
        cache_hit: { count: 0, ns: 0 },
        cache_miss: { count: 0, ns: 0 },
      },
      batch_stats: [{ batch_size: 1, compute_infer: { count: 2 } }],
    });
    expect(stats.last_inference).toBeGreaterThan(Date.now() - 3_600_000);

    const v2 = await get('/v2/models/versioned/versions/2/stats');
    expect(v2.body.model_stats).toMatchObject([{ name: 'versioned', version: '2', inference_count: 1 }]);
    const both = await get('/v2/models/versioned/stats');
    expect((both.body.model_stats as Array<{ version: string }>).map((m) => m.version)).toEqual(['1', '2']);
    const all = await get('/v2/models/stats');
    expect((all.body.model_stats as Array<{ name: string }>).map((m) => m.name)).toEqual(
      expect.arrayContaining(['linear', 'classifier', 'echo', 'versioned']),
    );
    expect((await get('/v2/models/nope/stats')).status).toBe(404);
    expect((await get('/v2/models/versioned/versions/9/stats')).status).toBe(404);
  });

  it('statistics of a batched model count rows and time the queue', async () => {
    const x = { name: 'x', datatype: 'FP32', shape: [3], data: [1, 2, 3] };
    await Promise.all([infer('batched', { inputs: [x] }), infer('batched', { inputs: [x] })]);
    const { body } = await get('/v2/models/batched/stats');
    const s = (body.model_stats as Array<Record<string, unknown>>)[0] as {
      inference_count: number;
      execution_count: number;
      inference_stats: { queue: { count: number }; success: { count: number } };
      batch_stats: Array<{ batch_size: number; compute_infer: { count: number } }>;
    };
    expect(s.inference_count).toBe(6);
    expect(s.inference_stats.success.count).toBe(2);
    expect(s.inference_stats.queue.count).toBe(2);
    const executions = s.batch_stats.reduce((n, b) => n + b.compute_infer.count, 0);
    expect(executions).toBe(s.execution_count);
    expect(s.batch_stats.reduce((n, b) => n + b.batch_size * b.compute_infer.count, 0)).toBe(6);
  });

  it('config: what servekit runs, in Triton names', async () => {
    const { status, body } = await get('/v2/models/classifier/config');
    expect(status).toBe(200);
    expect(body).toEqual({
      name: 'classifier',
      platform: 'custom',
      backend: 'custom',
      max_batch_size: 0,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1] }],
      output: [{ name: 'probs', data_type: 'TYPE_FP32', dims: [-1, 3] }],
      parameters: {},
    });
    const batched = await get('/v2/models/batched/config');
    expect(batched.body).toMatchObject({
      max_batch_size: 16,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [] }],
      dynamic_batching: {
        preferred_batch_size: [],
        max_queue_delay_microseconds: 1000,
        default_queue_policy: { default_timeout_microseconds: 30_000_000, max_queue_size: 1024 },
      },
    });
    expect((await get('/v2/models/versioned/versions/1/config')).body).toMatchObject({ name: 'versioned' });
    expect((await get('/v2/models/nope/config')).status).toBe(404);
  });

  it('classification: BYTES top-k "score:index:label", per row, k clamped to the class count', async () => {
    const x = { name: 'x', datatype: 'FP32', shape: [2], data: [2, 0] };
    const res = await infer('classifier', {
      inputs: [x],
      outputs: [{ name: 'probs', parameters: { classification: 5 } }],
    });
    expect(res.status).toBe(200);
    const out = (res.body.outputs as Array<Record<string, unknown>>)[0]!;
    expect(out).toMatchObject({ name: 'probs', datatype: 'BYTES', shape: [2, 3] });
    expect(out.parameters).toBeUndefined();
    expect(out.data).toEqual([
      '0.700000:0:setosa',
      '0.200000:2:virginica',
      '0.100000:1:versicolor',
      '0.700000:2:virginica',
      '0.200000:1:versicolor',
      '0.100000:0:setosa',
    ]);
  });

  it('classification without labels is "score:index"; integers print as integers; the binary extension carries it', async () => {
    const ints = { name: 'i', datatype: 'INT32', shape: [4], data: [5, -1, 9, 5] };
    const res = await infer('echo', { inputs: [ints], outputs: [{ name: 'i', parameters: { classification: 3 } }] });
    expect(res.body.outputs).toMatchObject([{ name: 'i', datatype: 'BYTES', shape: [3], data: ['9:2', '5:0', '5:3'] }]);

    const bin = await fetch(`${base}/v2/models/echo/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [ints],
        outputs: [{ name: 'i', parameters: { classification: 1, binary_data: true } }],
      }),
    });
    const buf = Buffer.from(await bin.arrayBuffer());
    const head = Number(bin.headers.get('inference-header-content-length'));
    const json = JSON.parse(buf.subarray(0, head).toString('utf8')) as { outputs: Array<{ parameters: unknown }> };
    expect(json.outputs[0]!.parameters).toEqual({ binary_data_size: 7 });
    const raw = buf.subarray(head);
    expect(raw.readUInt32LE(0)).toBe(3);
    expect(raw.subarray(4).toString('utf8')).toBe('9:2');
  });

  it('classification of a bad k or a non-numeric output is a 400 naming the output', async () => {
    const x = { name: 'x', datatype: 'FP32', shape: [1], data: [0] };
    const bad = await infer('classifier', {
      inputs: [x],
      outputs: [{ name: 'probs', parameters: { classification: 0 } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/Output "probs": parameter "classification" must be a positive integer/);
    const text = { name: 't', datatype: 'BYTES', shape: [1], data: ['a'] };
    const bytes = await infer('echo', { inputs: [text], outputs: [{ name: 't', parameters: { classification: 1 } }] });
    expect(bytes.status).toBe(400);
    expect(bytes.body.error).toMatch(/Output "t": class result not available .* 'BYTES'/);
  });
});
