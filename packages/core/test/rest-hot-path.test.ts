// What the REST hot-path trimming (issue 15) must keep: exact `application/json` on every answer (inference answers
// are sent through an identity serializer, everything else goes through the fix-up hook), the request id (generated
// only when read, stable after), numeric lists of any length read whole, and the dataplane's sync and async hooks,
// errors, metrics and statistics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInput } from '../src/errors.js';
import { type InferContext, Model, type ModelMetadata } from '../src/model/model.js';
import { makeContext } from '../src/protocols/context.js';
import { isInferRequest, type Payload, type Result } from '../src/protocols/infer-types.js';
import type { ModelServer } from '../src/server/model-server.js';
import { parseV2JsonBody, readNumericList } from '../src/tensor/json-numeric.js';
import { EchoModel, LinearModel, startServer, ThrowingModel } from './helpers.js';

/** LinearModel's answers through hooks that are all async (preprocess, predict and postprocess return promises). */
class AsyncHooksModel extends Model {
  private readonly linear = new LinearModel('linear-inside');

  override async preprocess(payload: Payload): Promise<Payload> {
    await Promise.resolve();
    return payload;
  }

  override async predict(payload: Payload): Promise<Result> {
    await Promise.resolve();
    const result = this.linear.predict(payload);
    return isInferRequest(payload) ? { ...result, model_name: this.name } : result;
  }

  override async postprocess(result: Result): Promise<Result> {
    await Promise.resolve();
    return result;
  }

  override metadata(): ModelMetadata {
    return { ...this.linear.metadata(), name: this.name };
  }
}

/** Throws InvalidInput synchronously from predict (not a rejected promise). */
class SyncThrowModel extends Model {
  override predict(): Result {
    throw new InvalidInput('sync-throw model refuses every request.');
  }

  override metadata(): ModelMetadata {
    return { name: this.name, platform: 'custom', inputs: [], outputs: [] };
  }
}

/** Echo model that reads the request id of its context (as a transformer forwarding it does). */
class RequestIdModel extends EchoModel {
  seen: string[] = [];

  override predict(payload: Payload, ctx: InferContext): Result {
    this.seen.push(ctx.requestId, ctx.requestId);
    return isInferRequest(payload) ? { model_name: this.name, outputs: payload.inputs } : { predictions: [] };
  }
}

let server: ModelServer;
let base: string;
const ids = new RequestIdModel('ids');

beforeAll(async () => {
  server = await startServer([
    new LinearModel('linear'),
    new AsyncHooksModel('async'),
    new SyncThrowModel('syncthrow'),
    new ThrowingModel('throwing'),
    ids,
  ]);
  base = `http://127.0.0.1:${server.httpPort}`;
});

afterAll(async () => {
  await server.stop();
});

const v2Body = (values: number[]) =>
  JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [values.length], data: values }] });

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: r.status, type: r.headers.get('content-type'), json: (await r.json()) as Record<string, unknown> };
}

describe('content type of every JSON answer is exactly application/json', () => {
  it('V2 infer 200, V2 infer 400, V1 predict 200, V1 predict 400', async () => {
    const ok = await post('/v2/models/linear/infer', v2Body([1, 2]));
    expect(ok).toMatchObject({ status: 200, type: 'application/json' });
    expect((ok.json.outputs as Array<{ data: number[] }>)[0]!.data).toEqual([3, 5]);
    const bad = await post('/v2/models/linear/infer', '{"inputs": 1}');
    expect(bad).toMatchObject({ status: 400, type: 'application/json' });
    expect(bad.json.error).toMatch(/"inputs" list/);
    const v1 = await post('/v1/models/linear:predict', '{"instances": [1, 2]}');
    expect(v1).toEqual({ status: 200, type: 'application/json', json: { predictions: [3, 5] } });
    const v1bad = await post('/v1/models/linear:predict', '{"instances": 3}');
    expect(v1bad).toMatchObject({ status: 400, type: 'application/json' });
  });

  it('routes answering objects (metadata, health, readiness, repository index) and the 404', async () => {
    for (const path of ['/v2', '/v2/health/live', '/v2/health/ready', '/v2/models/linear', '/v2/models/linear/ready']) {
      const r = await fetch(`${base}${path}`);
      expect([path, r.status, r.headers.get('content-type')]).toEqual([path, 200, 'application/json']);
    }
    const index = await fetch(`${base}/v2/repository/index`, { method: 'POST' });
    expect(index.headers.get('content-type')).toBe('application/json');
    const missing = await fetch(`${base}/no/such/route`);
    expect([missing.status, missing.headers.get('content-type')]).toEqual([404, 'application/json']);
    expect(await missing.json()).toEqual({ error: 'Route GET /no/such/route not found.' });
  });
});

describe('dataplane hooks, sync and async', () => {
  it('answers the same through synchronous and asynchronous hooks', async () => {
    const sync = await post('/v2/models/linear/infer', v2Body([0.5, 4]));
    const async = await post('/v2/models/async/infer', v2Body([0.5, 4]));
    expect(async.json.outputs).toEqual(sync.json.outputs);
    expect(async.json.model_name).toBe('async');
  });

  it('a synchronous throw in predict is the same 400 as a rejected promise, counted as a failure', async () => {
    const before = server.dataplane.statistics.report(server.dataplane.repository, 'syncthrow')[0]!;
    const r = await post('/v2/models/syncthrow/infer', '{"inputs": []}');
    expect(r).toEqual({
      status: 400,
      type: 'application/json',
      json: { error: 'sync-throw model refuses every request.' },
    });
    const after = server.dataplane.statistics.report(server.dataplane.repository, 'syncthrow')[0]!;
    expect(after.inference_stats.fail.count - before.inference_stats.fail.count).toBe(1);
    expect(after.inference_stats.success.count).toBe(before.inference_stats.success.count);
  });

  it("a model's own exception is a 500 naming the model, and every stage is still observed", async () => {
    const r = await post('/v2/models/throwing/infer', v2Body([1]));
    expect(r.status).toBe(500);
    expect(r.type).toBe('application/json');
    expect(String(r.json.error)).toContain('throwing');
    const text = await server.metrics.registry.metrics();
    expect(text).toMatch(/servekit_requests_total\{model_name="throwing",protocol="v2",status="500"\} 1/);
    expect(text).toMatch(/request_predict_seconds_count\{model_name="throwing"\} 1/);
    expect(text).toMatch(/servekit_requests_in_flight\{model_name="throwing"\} 0/);
  });

  it('counts successes per model in the metrics and Triton statistics', async () => {
    const stats = () => server.dataplane.statistics.report(server.dataplane.repository, 'async')[0]!;
    const before = stats().inference_stats.success.count;
    for (let i = 0; i < 3; i++) await post('/v2/models/async/infer', v2Body([i]));
    expect(stats().inference_stats.success.count - before).toBe(3);
    expect(stats().execution_count).toBeGreaterThanOrEqual(3);
    const text = await server.metrics.registry.metrics();
    expect(text).toMatch(/request_preprocess_seconds_count\{model_name="async"\} [1-9]/);
    expect(text).toMatch(/request_postprocess_seconds_count\{model_name="async"\} [1-9]/);
    expect(text).toMatch(/servekit_requests_total\{model_name="async",protocol="v2",status="200"\} [1-9]/);
  });
});

describe('request id', () => {
  it('is the x-request-id header, else the body id, else one generated UUID that stays the same', async () => {
    ids.seen = [];
    await post('/v2/models/ids/infer', v2Body([1]), { 'x-request-id': 'from-header' });
    await post('/v2/models/ids/infer', JSON.stringify({ id: 'from-body', inputs: [] }));
    await post('/v2/models/ids/infer', v2Body([1]));
    const [h1, h2, b1, b2, g1, g2] = ids.seen;
    expect([h1, h2, b1, b2]).toEqual(['from-header', 'from-header', 'from-body', 'from-body']);
    expect(g1).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(g2).toBe(g1);
  });

  it('is drawn once, and a copy of the context (a transformer hop) keeps the same id', () => {
    const ctx = makeContext({}, 'v2', new AbortController().signal);
    const copy = { ...ctx, protocol: 'v1' as const };
    expect(copy.requestId).toBe(ctx.requestId);
    expect(makeContext({}, 'v2', new AbortController().signal).requestId).not.toBe(ctx.requestId);
  });
});

describe('numeric lists past the first buffer', () => {
  it('reads lists of 0 to 1000 values whole, at every growth step', () => {
    for (const n of [0, 1, 7, 8, 9, 16, 17, 1000]) {
      const values = Array.from({ length: n }, (_, i) => i * 0.25 - 3);
      const bytes = Buffer.from(JSON.stringify(values));
      const block = readNumericList(bytes, 0)!;
      expect(block.count).toBe(n);
      expect(Array.from(block.values.subarray(0, n))).toEqual(values);
    }
  });

  it('gives each data list of a body its own placeholder, read back to its values', () => {
    const body = Buffer.from(
      JSON.stringify({
        inputs: [
          { name: 'a', datatype: 'FP64', shape: [9], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
          { name: 'b', datatype: 'FP64', shape: [2], data: [-1.5, 2e3] },
        ],
      }),
    );
    const parsed = parseV2JsonBody(body, 10);
    const inputs = (parsed.body as { inputs: Array<{ data: string }> }).inputs;
    expect(inputs[0]!.data).not.toBe(inputs[1]!.data);
    const a = parsed.blocks.get(inputs[0]!.data)!;
    const b = parsed.blocks.get(inputs[1]!.data)!;
    expect(Array.from(a.values.subarray(0, a.count))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(b.values.subarray(0, b.count))).toEqual([-1.5, 2000]);
    expect(inputs[0]!.data.charCodeAt(0)).toBe(0);
    expect(inputs[0]!.data.slice(1)).toMatch(/^[0-9a-f]{16}:0$/);
  });
});
