// Every REST route (KServe V1, V2 / OIP, repository extension) over a real socket, with the client package
// and with raw fetch where the wire format itself is under test.
import { ClientError, RestClient } from '@servekit/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelServer } from '../src/server/model-server.js';
import { BrokenLoadModel, EchoModel, LinearModel, SlowLoadModel, startServer, V1OnlyModel } from './helpers.js';

let server: ModelServer;
let rest: RestClient;
let base: string;
const echo = new EchoModel('echo');

beforeAll(async () => {
  server = await startServer(
    [echo, new LinearModel('linear'), new BrokenLoadModel('broken'), new V1OnlyModel('v1only')],
    {},
    (s) => {
      s.repository.register(new LinearModel('versioned', 10, 0), '1');
      s.repository.register(new LinearModel('versioned', 100, 0), '2');
      // Stands in for a model directory: `load` builds the model from its "files".
      s.repository.factory = (name) => (name === 'broken' ? new BrokenLoadModel(name) : new LinearModel(name, 3, 0));
    },
  );
  base = `http://127.0.0.1:${server.httpPort}`;
  rest = new RestClient({ baseUrl: base, retries: 0 });
});

afterAll(async () => {
  rest.close();
  await server.stop();
});

const x = (values: number[]) => ({
  name: 'x',
  datatype: 'FP32' as const,
  shape: [values.length],
  data: Float32Array.from(values),
});

describe('KServe V1', () => {
  it('GET /v1/models lists every registered model', async () => {
    expect((await rest.v1Models()).sort()).toEqual(['broken', 'echo', 'linear', 'v1only', 'versioned']);
  });

  it('GET /v1/models/{name} is 200 ready for a loaded model, 503 not ready for a failed one, 404 unknown', async () => {
    expect(await rest.v1ModelReady('linear')).toBe(true);
    const r = await fetch(`${base}/v1/models/broken`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ name: 'broken', ready: false });
    const e = await rest.v1ModelReady('nope').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ClientError);
    expect((e as ClientError).status).toBe(404);
  });

  it(':predict maps instances to predictions', async () => {
    expect(await rest.v1Predict('linear', { instances: [[1], [2], [3]] })).toEqual({ predictions: [3, 5, 7] });
  });

  it(':predict converts a V2 response of the model into predictions nested by shape', async () => {
    expect(
      await rest.v1Predict('echo', {
        instances: [
          [1, 2],
          [3, 4],
        ],
      }),
    ).toEqual({
      predictions: [
        [1, 2],
        [3, 4],
      ],
    });
  });

  it('a model answering a V2 request with a V1 body gets a "predictions" output tensor', async () => {
    const res = await rest.infer('v1only', { inputs: [x([1]), { ...x([2]), name: 'z' }] });
    expect(res.outputs).toHaveLength(1);
    expect(res.outputs[0]).toMatchObject({ name: 'predictions', datatype: 'INT64', shape: [1] });
    expect(Array.from(res.outputs[0]!.data as BigInt64Array)).toEqual([2n]);
  });

  it(':explain calls the model explainer', async () => {
    expect(await rest.v1Explain('linear', { instances: [[1], [2]] })).toEqual({ explanations: [{ x: 2 }, { x: 2 }] });
  });

  it(':explain of a model without explainer is 501', async () => {
    const e = (await rest.v1Explain('echo', { instances: [1] }).catch((err: unknown) => err)) as ClientError;
    expect(e.status).toBe(501);
    expect(e.message).toContain('does not support explain');
  });

  it('an unknown V1 verb is 400 naming the route form', async () => {
    const r = await fetch(`${base}/v1/models/linear:frobnicate`, { method: 'POST', body: '{"instances":[1]}' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain(':predict');
  });

  it('a V1 body without instances or inputs reaches the model as it is (KServe passes any object)', async () => {
    const r = await fetch(`${base}/v1/models/v1only:predict`, { method: 'POST', body: '{"url":"http://x/y.jpg"}' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ predictions: [0] });
  });

  it('a V1 body that is not an object, or whose instances is not a list, is 400', async () => {
    for (const body of ['[1,2]', '"x"', '{"instances": 3}']) {
      const r = await fetch(`${base}/v1/models/linear:predict`, { method: 'POST', body });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(/JSON object|"instances" to be a list/);
    }
  });
});

describe('V2 server routes', () => {
  it('GET /v2 advertises the binary tensor extension', async () => {
    const md = await rest.serverMetadata();
    expect(md.name).toBe('servekit');
    expect(md.extensions).toContain('binary_tensor_data');
  });

  it('live and ready', async () => {
    expect(await rest.serverLive()).toBe(true);
    expect(await rest.serverReady()).toBe(true);
  });
});

describe('V2 model routes', () => {
  it('metadata without version names inputs, outputs and the versions', async () => {
    const md = await rest.modelMetadata('linear');
    expect(md).toMatchObject({
      name: 'linear',
      platform: 'custom',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
    });
    expect((await rest.modelMetadata('versioned')).versions).toEqual(['1', '2']);
  });

  it('metadata with a version; unknown version is 404', async () => {
    expect((await rest.modelMetadata('versioned', '1')).name).toBe('versioned');
    const e = (await rest.modelMetadata('versioned', '9').catch((err: unknown) => err)) as ClientError;
    expect(e.status).toBe(404);
    expect(e.message).toContain('no version 9');
  });

  it('ready with and without version', async () => {
    expect(await rest.modelReady('linear')).toBe(true);
    expect(await rest.modelReady('versioned', '2')).toBe(true);
    expect(await rest.modelReady('broken')).toBe(false);
    const r = await fetch(`${base}/v2/models/broken/ready`);
    expect(r.status).toBe(503);
  });

  it('infer y = 2x + 1', async () => {
    const res = await rest.infer('linear', { id: 'req-1', inputs: [x([0, 1, 2.5])] });
    expect(res.model_name).toBe('linear');
    expect(res.id).toBe('req-1');
    expect(res.outputs[0]!.name).toBe('y');
    expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([1, 3, 6]);
  });

  it('infer on a version routes to that version and reports it; no version picks the latest', async () => {
    const v1 = await rest.infer('versioned', { inputs: [x([2])] }, { version: '1' });
    expect(v1.model_version).toBe('1');
    expect(Array.from(v1.outputs[0]!.data as Float32Array)).toEqual([20]);
    const latest = await rest.infer('versioned', { inputs: [x([2])] });
    expect(Array.from(latest.outputs[0]!.data as Float32Array)).toEqual([200]);
  });

  it('JSON data may be nested by the shape or flat', async () => {
    for (const data of [
      [
        [1, 2],
        [3, 4],
      ],
      [1, 2, 3, 4],
    ]) {
      const r = await fetch(`${base}/v2/models/linear/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data }] }),
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data).toEqual([3, 5, 7, 9]);
    }
  });

  it('requested outputs select and order the outputs', async () => {
    const a = { name: 'a', datatype: 'INT32' as const, shape: [1], data: Int32Array.of(1) };
    const b = { name: 'b', datatype: 'INT32' as const, shape: [1], data: Int32Array.of(2) };
    const res = await rest.infer('echo', { inputs: [a, b], outputs: [{ name: 'b' }] });
    expect(res.outputs.map((o) => o.name)).toEqual(['b']);
  });

  it('per-output binary_data returns only that output in the binary part', async () => {
    const a = { name: 'a', datatype: 'INT32' as const, shape: [2], data: Int32Array.of(1, 2) };
    const b = { name: 'b', datatype: 'INT32' as const, shape: [1], data: Int32Array.of(3) };
    const body = JSON.stringify({
      inputs: [
        { name: 'a', datatype: 'INT32', shape: [2], data: [1, 2] },
        { name: 'b', datatype: 'INT32', shape: [1], data: [3] },
      ],
      outputs: [{ name: 'a', parameters: { binary_data: true } }, { name: 'b' }],
    });
    const r = await fetch(`${base}/v2/models/echo/infer`, { method: 'POST', body });
    expect(r.status).toBe(200);
    const headerLength = Number(r.headers.get('inference-header-content-length'));
    const buf = Buffer.from(await r.arrayBuffer());
    const head = JSON.parse(buf.toString('utf8', 0, headerLength));
    expect(head.outputs[0]).toEqual({ name: 'a', datatype: 'INT32', shape: [2], parameters: { binary_data_size: 8 } });
    expect(head.outputs[1]).toEqual({ name: 'b', datatype: 'INT32', shape: [1], data: [3] });
    expect(
      Array.from(new Int32Array(buf.buffer.slice(buf.byteOffset + headerLength, buf.byteOffset + buf.byteLength))),
    ).toEqual([1, 2]);
    // and the client decodes the same mixed response
    const res = await rest.infer('echo', {
      inputs: [a, b],
      outputs: [{ name: 'a', parameters: { binary_data: true } }, { name: 'b' }],
    });
    expect(res.outputs.map((o) => Array.from(o.data as Int32Array))).toEqual([[1, 2], [3]]);
  });

  it("Triton's raw binary request (Inference-Header-Content-Length: 0) feeds a single-input model", async () => {
    const r = await fetch(`${base}/v2/models/linear/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': '0', 'content-type': 'application/octet-stream' },
      body: Buffer.from(Float32Array.of(1, 2, 3, 4).buffer),
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { outputs: Array<{ name: string; shape: number[]; data: number[] }> };
    expect(body.outputs[0]).toMatchObject({ name: 'y', shape: [4], data: [3, 5, 7, 9] });
  });

  it('a raw binary request to a model without exactly one input is 400', async () => {
    const r = await fetch(`${base}/v2/models/echo/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': '0' },
      body: Buffer.alloc(8),
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain('exactly one input');
  });

  it('x-request-id and other headers reach the model context', async () => {
    await rest.infer('echo', { inputs: [x([1])] }, { headers: { 'x-request-id': 'abc-123', traceparent: 't-1' } });
    expect(echo.lastCtx?.requestId).toBe('abc-123');
    expect(echo.lastCtx?.headers.traceparent).toBe('t-1');
    expect(echo.lastCtx?.protocol).toBe('v2');
  });
});

describe('V2 repository extension', () => {
  it('index lists models, versions and states with the load error', async () => {
    const index = await rest.repositoryIndex();
    expect(index).toContainEqual({ name: 'linear', state: 'READY' });
    expect(index).toContainEqual({ name: 'versioned', version: '1', state: 'READY' });
    const broken = index.find((e) => e.name === 'broken');
    expect(broken?.state).toBe('UNAVAILABLE');
    expect(broken?.reason).toContain('disk on fire');
  });

  it('unload makes a model unavailable (listed, reason unloaded); load brings it back through the factory', async () => {
    await rest.load('fresh');
    expect(await rest.modelReady('fresh')).toBe(true);
    const y = await rest.infer('fresh', { inputs: [x([2])] });
    expect(Array.from(y.outputs[0]!.data as Float32Array)).toEqual([6]);
    await rest.unload('fresh');
    expect(await rest.modelReady('fresh')).toBe(false);
    expect(await rest.repositoryIndex()).toContainEqual({ name: 'fresh', state: 'UNAVAILABLE', reason: 'unloaded' });
    await rest.load('fresh');
    expect(await rest.modelReady('fresh')).toBe(true);
  });

  it('load of a model that fails to load is 503 with the reason', async () => {
    const e = (await rest.load('broken').catch((err: unknown) => err)) as ClientError;
    expect(e.status).toBe(503);
    expect(e.message).toContain('disk on fire');
  });

  it('repository routes accept an empty body', async () => {
    for (const headers of [{}, { 'content-type': 'application/json' }] as Array<Record<string, string>>) {
      const r = await fetch(`${base}/v2/repository/index`, { method: 'POST', headers });
      expect(r.status).toBe(200);
      expect(Array.isArray(await r.json())).toBe(true);
    }
  });

  it('server readiness is false while a model loads, true once it is loaded', async () => {
    const slow = new SlowLoadModel('slow-load');
    server.repository.register(slow);
    const loading = rest.load('slow-load');
    await slow.entered;
    expect(await rest.serverReady()).toBe(false);
    expect(await rest.modelReady('slow-load')).toBe(false);
    slow.release();
    await loading;
    expect(await rest.serverReady()).toBe(true);
    expect(await rest.modelReady('slow-load')).toBe(true);
    await rest.unload('slow-load');
  });

  it('unload of an unknown model is 404', async () => {
    const e = (await rest.unload('ghost').catch((err: unknown) => err)) as ClientError;
    expect(e.status).toBe(404);
  });
});
