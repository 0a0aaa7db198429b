// Transformer + LocalPredictor (the in-process predictor) served by a real ModelServer over loopback sockets:
// forwarding per protocol, pre/post-processing, header forwarding, error mapping, health check.
import { GrpcClient, RestClient } from '@servekit/client';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInput } from '../src/errors.js';
import { FORWARDED_HEADERS, forwardHeaders } from '../src/model/forward-headers.js';
import { type InferContext, Model } from '../src/model/model.js';
import { LocalPredictor, Transformer } from '../src/model/transformer.js';
import {
  isInferRequest,
  type Payload,
  type Result,
  type V1Request,
  type V1Response,
} from '../src/protocols/infer-types.js';
import type { ModelServer } from '../src/server/model-server.js';
import { EchoModel, LinearModel, startServer, ThrowingModel, waitFor } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(models: Model[]): Promise<{ server: ModelServer; rest: RestClient; grpc: GrpcClient }> {
  const server = await startServer(models);
  const rest = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
  const grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
  cleanups.push(() => server.stop());
  cleanups.push(() => rest.close());
  cleanups.push(() => grpc.close());
  return { server, rest, grpc };
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** Doubles `x` before the predictor and labels the predictions after it (V1 and V2). */
class Doubler extends Transformer {
  override preprocess(payload: Payload): Payload {
    if (isInferRequest(payload)) {
      const inputs = payload.inputs.map((t) => ({
        ...t,
        data: Float32Array.from(t.data as Float32Array, (v) => v * 2),
      }));
      return { ...payload, inputs };
    }
    return { instances: (payload.instances ?? []).map((v) => Number(v) * 2) };
  }

  override postprocess(result: Result): Result {
    if ('predictions' in result) return { predictions: (result as V1Response).predictions, doubled: true };
    return result;
  }
}

describe('Transformer over an in-process predictor (LocalPredictor)', () => {
  it('forwards V1 bodies to a v1 predictor and applies pre/post-processing', async () => {
    const t = new Doubler('t', { predictor: new LocalPredictor(new LinearModel('lin', 2, 1), 'v1') });
    const { server } = await serve([t]);
    const r = await postJson(`http://127.0.0.1:${server.httpPort}/v1/models/t:predict`, { instances: [1, 2, 3] });
    expect(r.status).toBe(200);
    // 2·(2x)+1
    expect(r.body).toEqual({ predictions: [5, 9, 13], doubled: true });
  });

  it('forwards V2 REST and gRPC requests to a v2 predictor', async () => {
    const t = new Doubler('t', { predictor: new LocalPredictor(new LinearModel('lin', 3, 0), 'v2') });
    const { rest, grpc } = await serve([t]);
    const req = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [3], data: Float32Array.of(1, 2, 4) }] };
    for (const res of [await rest.infer('t', req), await grpc.infer('t', req)]) {
      expect(res.model_name).toBe('t');
      expect(res.outputs[0]!.name).toBe('y');
      expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([6, 12, 24]);
    }
  });

  it('converts a V1 result of the predictor to tensors for a V2 client, and keeps requested outputs', async () => {
    class V1Answer extends Model {
      override predict(): Result {
        return { predictions: [1, 2], extra: [3, 4] };
      }
    }
    const t = new Transformer('t', { predictor: new LocalPredictor(new V1Answer('m'), 'v2') });
    const { rest } = await serve([t]);
    const x = { name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.of(1) };
    const res = await rest.infer('t', { inputs: [x], outputs: [{ name: 'extra' }] });
    expect(res.outputs.map((o) => o.name)).toEqual(['extra']);
    const err = await rest.infer('t', { inputs: [x], outputs: [{ name: 'nope' }] }).catch((e: Error) => e);
    expect(err).toMatchObject({ status: 400 });
    expect((err as Error).message).toContain('"nope"');
  });

  it('forwards x-request-id, authorization and trace headers, and nothing else, on every hop', async () => {
    const echo = new EchoModel('echo');
    echo.ready = true;
    const t = new Transformer('t', { predictor: new LocalPredictor(echo, 'v1'), predictorModel: 'echo' });
    const { server } = await serve([t]);
    const headers = {
      'x-request-id': 'req-42',
      authorization: 'Bearer s3cret',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'x-unrelated': 'no',
    };
    const r = await postJson(`http://127.0.0.1:${server.httpPort}/v1/models/t:predict`, { instances: [1] }, headers);
    expect(r.status).toBe(200);
    expect(echo.lastCtx!.headers).toEqual({
      'x-request-id': 'req-42',
      authorization: 'Bearer s3cret',
      traceparent: headers.traceparent,
    });
    expect(echo.lastCtx!.protocol).toBe('v1');

    // gRPC metadata is forwarded too; without an x-request-id the transformer's own request id is sent.
    const t2 = new Transformer('t2', { predictor: new LocalPredictor(echo, 'v2'), predictorModel: 'echo' });
    const s2 = await serve([t2]);
    await s2.grpc.infer(
      't2',
      { inputs: [{ name: 'a', datatype: 'INT32', shape: [1], data: Int32Array.of(7) }] },
      { metadata: { authorization: 'Bearer g', traceparent: headers.traceparent } },
    );
    expect(echo.lastCtx!.headers.authorization).toBe('Bearer g');
    expect(echo.lastCtx!.headers.traceparent).toBe(headers.traceparent);
    expect(typeof echo.lastCtx!.headers['x-request-id']).toBe('string');
    expect(echo.lastCtx!.headers['x-request-id']).not.toBe('');
  });

  it('refuses a payload of the wrong protocol for its predictor with a 400 that says which one to send', async () => {
    const t = new Transformer('t', { predictor: new LocalPredictor(new LinearModel('lin'), 'v2') });
    const { server } = await serve([t]);
    const r = await postJson(`http://127.0.0.1:${server.httpPort}/v1/models/t:predict`, { instances: [1] });
    expect(r.status).toBe(400);
    expect(String(r.body.error)).toContain('takes V2 requests');
    const t1 = new Transformer('t1', { predictor: new LocalPredictor(new LinearModel('lin'), 'v1') });
    const s1 = await serve([t1]);
    const x = { name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.of(1) };
    const err = await s1.rest.infer('t1', { inputs: [x] }).catch((e: Error) => e);
    expect(err).toMatchObject({ status: 400 });
    expect((err as Error).message).toContain('takes V1 requests');
  });

  it("maps the in-process model's failures as a remote predictor's: 400 kept, others 502 naming it", async () => {
    class Picky extends Model {
      override predict(): Result {
        throw new InvalidInput('instance 0 is missing column "tenure"');
      }
    }
    const bad = new Transformer('bad', { predictor: new LocalPredictor(new Picky('picky'), 'v1') });
    const boom = new Transformer('boom', { predictor: new LocalPredictor(new ThrowingModel('thrower'), 'v1') });
    const { server } = await serve([bad, boom]);
    const base = `http://127.0.0.1:${server.httpPort}/v1/models`;
    const r400 = await postJson(`${base}/bad:predict`, { instances: [{}] });
    expect(r400.status).toBe(400);
    expect(String(r400.body.error)).toContain('instance 0 is missing column "tenure"');
    expect(String(r400.body.error)).toContain('in-process model picky');
    const r502 = await postJson(`${base}/boom:predict`, { instances: [1] });
    expect(r502.status).toBe(502);
    expect(String(r502.body.error)).toContain('in-process model thrower');
    // The in-process model's own JS message stays in the log, as the server's error boundary keeps it.
    expect(String(r502.body.error)).toContain('failed to process the request');
    expect(String(r502.body.error)).not.toContain('weights are NaN');
  });

  it('loads a lazily built in-process model, and fails to construct without a predictor, saying what to pass', async () => {
    const lazy = new Transformer('lazy', {
      predictor: new LocalPredictor(async () => new LinearModel('lin', 1, 10), 'v1', 'in-process model lin'),
    });
    // What a --model_module transformer gets from flags that name no predictor.
    expect(() => new Transformer('orphan', {} as never)).toThrow(/orphan has no predictor.*--predictor_host/);
    const { server } = await serve([lazy]);
    const r = await postJson(`http://127.0.0.1:${server.httpPort}/v1/models/lazy:predict`, { instances: [1] });
    expect(r.body).toEqual({ predictions: [11] });
  });
});

/** A model whose readiness the test switches (the predictor of the health-check test). */
class Switchable extends Model {
  override predict(payload: Payload, _ctx: InferContext): Result {
    return { predictions: (payload as V1Request).instances ?? [] };
  }
}

describe('health check', () => {
  it("is not ready while the predictor is not, and follows the predictor's readiness (server readiness too)", async () => {
    const inner = new Switchable('inner');
    const local = new LocalPredictor(inner, 'v1');
    const t = new Transformer('t', { predictor: local, healthCheck: true, healthCheckIntervalMs: 20 });
    const plain = new Transformer('plain', { predictor: new LocalPredictor(new Switchable('p'), 'v1') });
    const { server, rest } = await serve([t, plain]);
    // The transformer loaded its in-process predictor, so both are ready.
    await waitFor(() => rest.modelReady('t'), true);
    expect(await rest.serverReady()).toBe(true);
    inner.ready = false;
    await waitFor(() => rest.modelReady('t'), false);
    expect(await rest.v1ModelReady('t')).toBe(false);
    // The server's readiness (what a KServe readinessProbe asks) follows a health-checked transformer too.
    expect(await rest.serverReady()).toBe(false);
    const r = await postJson(`http://127.0.0.1:${server.httpPort}/v1/models/t:predict`, { instances: [1] });
    expect(r.status).toBe(503);
    expect(String(r.body.error)).toMatch(/predictor is not ready: in-process model .* reports model t not ready/);
    inner.ready = true;
    await waitFor(() => rest.modelReady('t'), true);
    expect(await rest.serverReady()).toBe(true);
    // Without the health check readiness is the transformer's own.
    expect(await rest.modelReady('plain')).toBe(true);
  });
});

describe('forwardHeaders', () => {
  it('keeps only the forwarded names, joining repeated values', () => {
    expect(FORWARDED_HEADERS).toContain('traceparent');
    expect(
      forwardHeaders({ 'x-request-id': 'a', baggage: ['k=v', 'k2=v2'], host: 'h', 'content-length': '3' }),
    ).toEqual({ 'x-request-id': 'a', baggage: 'k=v, k2=v2' });
  });
});
