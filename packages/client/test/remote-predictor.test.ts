// RemotePredictor behind a real Transformer server, in front of real servekit predictor servers, all on
// loopback: V1 / V2 REST / gRPC forwarding, header forwarding, retries, error mapping, deadlines, health check.
import { createServer } from 'node:net';
import type { FlagSpec, PredictorProtocol } from '@servekit/core';
import {
  type InferContext,
  InvalidInput,
  Model,
  type ModelServer,
  type Payload,
  type Result,
  ServerNotReady,
  Transformer,
  type V1Request,
} from '@servekit/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EchoModel,
  LinearModel,
  SlowLoadModel,
  SlowModel,
  startServer,
  ThrowingModel,
  waitFor,
} from '../../core/test/helpers.js';
import {
  GrpcClient,
  PREDICTOR_FLAGS,
  predictorFromFlags,
  RemotePredictor,
  RestClient,
  transformerOptionsFromFlags,
} from '../src/index.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function predictorServer(models: Model[], options: { httpPort?: number; grpcPort?: number } = {}) {
  const server = await startServer(models, options);
  cleanups.push(() => server.stop());
  return server;
}

/** A transformer server named `t` in front of `predictor`; returns clients of the transformer. */
async function transformerServer(
  predictor: RemotePredictor,
  extra: { predictorModel?: string; healthCheck?: boolean } = {},
) {
  const t = new Transformer('t', { predictor, healthCheckIntervalMs: 20, ...extra });
  const server = await startServer([t]);
  const rest = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
  const grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
  cleanups.push(() => server.stop());
  cleanups.push(() => rest.close());
  cleanups.push(() => grpc.close());
  return { server, rest, grpc, url: `http://127.0.0.1:${server.httpPort}` };
}

function host(server: ModelServer, protocol: PredictorProtocol): string {
  return `127.0.0.1:${protocol === 'grpc-v2' ? server.grpcPort : server.httpPort}`;
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as { error?: string } & Record<string, unknown>,
  };
}

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const X = { name: 'x', datatype: 'FP32' as const, shape: [3], data: Float32Array.of(1, 2, 3) };
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** Counts calls; fails the first `failures` of them with `error()`, then answers like LinearModel(1, 0). */
class Flaky extends Model {
  calls = 0;
  constructor(
    name: string,
    private readonly failures: number,
    private readonly error: () => Error,
  ) {
    super(name);
  }

  override predict(payload: Payload, _ctx: InferContext): Result {
    this.calls++;
    if (this.calls <= this.failures) throw this.error();
    return { predictions: ((payload as V1Request).instances ?? []).map(Number) };
  }
}

describe('forwarding', () => {
  it('V1: forwards a V1 body to the predictor and returns its answer', async () => {
    const p = await predictorServer([new LinearModel('t', 2, 1)]);
    const { url } = await transformerServer(new RemotePredictor({ host: host(p, 'v1'), protocol: 'v1' }));
    const r = await postJson(`${url}/v1/models/t:predict`, { instances: [1, 2, 3] });
    expect(r).toMatchObject({ status: 200, body: { predictions: [3, 5, 7] } });
  });

  for (const [protocol, binary] of [
    ['v2', false],
    ['v2', true],
    ['grpc-v2', false],
  ] as const) {
    it(`${protocol}${binary ? ' binary' : ''}: forwards V2 REST and gRPC requests to predictor model "lin"`, async () => {
      const p = await predictorServer([new LinearModel('lin', 3, 0)]);
      const predictor = new RemotePredictor({ host: host(p, protocol), protocol, binary });
      const { rest, grpc } = await transformerServer(predictor, { predictorModel: 'lin' });
      for (const res of [await rest.infer('t', { inputs: [X], id: 'abc' }), await grpc.infer('t', { inputs: [X] })]) {
        expect(res.model_name).toBe('t');
        expect(res.outputs.map((o) => [o.name, o.datatype, o.shape, Array.from(o.data as Float32Array)])).toEqual([
          ['y', 'FP32', [3], [3, 6, 9]],
        ]);
      }
    });
  }

  for (const protocol of ['v1', 'v2', 'grpc-v2'] as const) {
    it(`${protocol}: x-request-id, authorization and traceparent arrive at the predictor model`, async () => {
      const echo = new EchoModel('t');
      const p = await predictorServer([echo]);
      const { url } = await transformerServer(new RemotePredictor({ host: host(p, protocol), protocol }));
      const headers = {
        'x-request-id': `id-${protocol}`,
        authorization: 'Bearer tok',
        traceparent: TRACE,
        cookie: 'c=1',
      };
      const body =
        protocol === 'v1' ? { instances: [1] } : { inputs: [{ name: 'a', datatype: 'INT32', shape: [1], data: [1] }] };
      const path = protocol === 'v1' ? '/v1/models/t:predict' : '/v2/models/t/infer';
      const r = await postJson(`${url}${path}`, body, headers);
      expect(r.status).toBe(200);
      const seen = echo.lastCtx!.headers;
      expect(seen['x-request-id']).toBe(`id-${protocol}`);
      expect(seen.authorization).toBe('Bearer tok');
      expect(seen.traceparent).toBe(TRACE);
      expect(seen.cookie).toBeUndefined();
      expect(echo.lastCtx!.protocol).toBe(protocol);
    });
  }
});

describe('retries', () => {
  for (const protocol of ['v1', 'grpc-v2'] as const) {
    it(`${protocol}: retries connection refused until a late predictor starts`, async () => {
      const httpPort = await freePort();
      const grpcPort = await freePort();
      const port = protocol === 'v1' ? httpPort : grpcPort;
      const predictor = new RemotePredictor({
        host: `127.0.0.1:${port}`,
        protocol,
        retries: 10,
        backoffMs: 50,
        maxBackoffMs: 200,
      });
      const { url, grpc } = await transformerServer(predictor);
      const late = new Promise<void>((resolve) => {
        setTimeout(() => {
          void predictorServer([new LinearModel('t', 1, 1)], { httpPort, grpcPort }).then(() => resolve());
        }, 150);
      });
      if (protocol === 'v1') {
        const r = await postJson(`${url}/v1/models/t:predict`, { instances: [1] });
        expect(r).toMatchObject({ status: 200, body: { predictions: [2] } });
      } else {
        const res = await grpc.infer('t', { inputs: [X] });
        expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([2, 3, 4]);
      }
      await late;
    });
  }

  it('retries 503 with backoff, and gives up with a 503 naming the predictor when retries run out', async () => {
    const flaky = new Flaky('t', 2, () => new ServerNotReady('warming up'));
    const p = await predictorServer([flaky]);
    const { url } = await transformerServer(
      new RemotePredictor({ host: host(p, 'v1'), protocol: 'v1', retries: 3, backoffMs: 10 }),
    );
    const ok = await postJson(`${url}/v1/models/t:predict`, { instances: [4] });
    expect(ok).toMatchObject({ status: 200, body: { predictions: [4] } });
    expect(flaky.calls).toBe(3);

    const always = new Flaky('t', 1000, () => new ServerNotReady('warming up'));
    const p2 = await predictorServer([always]);
    const t2 = await transformerServer(
      new RemotePredictor({ host: host(p2, 'v1'), protocol: 'v1', retries: 2, backoffMs: 10 }),
    );
    const r = await postJson(`${t2.url}/v1/models/t:predict`, { instances: [4] });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.body.error).toContain(`http://${host(p2, 'v1')}`);
    expect(r.body.error).toContain('warming up');
    expect(always.calls).toBe(3);
  });

  for (const protocol of ['v1', 'v2', 'grpc-v2'] as const) {
    it(`${protocol}: does not retry a predictor's 400 or 500`, async () => {
      const bad = new Flaky('bad', 1000, () => new InvalidInput('column "tenure" is missing'));
      const boom = new Flaky('boom', 1000, () => new Error('model exploded'));
      const p = await predictorServer([bad, boom]);
      for (const [model, status, text] of [
        ['bad', 400, 'column "tenure" is missing'],
        ['boom', 502, 'Model boom failed'],
      ] as const) {
        const predictor = new RemotePredictor({ host: host(p, protocol), protocol, retries: 3, backoffMs: 10 });
        const { url } = await transformerServer(predictor, { predictorModel: model });
        const r =
          protocol === 'v1'
            ? await postJson(`${url}/v1/models/t:predict`, { instances: [1] })
            : await postJson(`${url}/v2/models/t/infer`, {
                inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
              });
        expect(r.status).toBe(status);
        expect(r.body.error).toContain(text);
        expect(r.body.error).toContain(host(p, protocol));
      }
      expect(bad.calls).toBe(1);
      expect(boom.calls).toBe(1);
    });
  }
});

describe('failures name the predictor', () => {
  for (const protocol of ['v1', 'v2', 'grpc-v2'] as const) {
    it(`${protocol}: predictor down → 503 with Retry-After, after the retries, within the deadline`, async () => {
      const port = await freePort();
      const predictor = new RemotePredictor({
        host: `127.0.0.1:${port}`,
        protocol,
        retries: 2,
        backoffMs: 10,
        timeoutMs: 5000,
      });
      const { url, grpc } = await transformerServer(predictor);
      const r =
        protocol === 'v1'
          ? await postJson(`${url}/v1/models/t:predict`, { instances: [1] })
          : await postJson(`${url}/v2/models/t/infer`, {
              inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
            });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(r.body.error).toContain(`127.0.0.1:${port}`);
      expect(r.body.error).toContain('unreachable');
      if (protocol === 'v1') return;
      // gRPC clients of the transformer get UNAVAILABLE.
      const err = await grpc.infer('t', { inputs: [X] }).catch((e: { grpcCode?: number; message: string }) => e);
      expect(err).toMatchObject({ grpcCode: 14 });
    });
  }

  it('predictor 500 → 502 with its message; unknown predictor model (404) → 502', async () => {
    const p = await predictorServer([new ThrowingModel('t')]);
    const { url } = await transformerServer(new RemotePredictor({ host: host(p, 'v1'), protocol: 'v1' }));
    const r = await postJson(`${url}/v1/models/t:predict`, { instances: [1] });
    expect(r.status).toBe(502);
    expect(r.body.error).toBe(
      `Predictor http://${host(p, 'v1')} answered 500: Model t failed to process the request (details are in the server log).`,
    );
    const t2 = await transformerServer(new RemotePredictor({ host: host(p, 'v2'), protocol: 'v2' }), {
      predictorModel: 'missing',
    });
    const r2 = await postJson(`${t2.url}/v2/models/t/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
    });
    expect(r2.status).toBe(502);
    expect(r2.body.error).toContain('answered 404');
    expect(r2.body.error).toContain('missing');
  });

  for (const protocol of ['v1', 'grpc-v2'] as const) {
    it(`${protocol}: a predictor that does not answer → 503 at the deadline, never a hang`, async () => {
      const slow = new SlowModel('t');
      class SlowV1 extends Model {
        override async predict(payload: Payload, ctx: InferContext): Promise<Result> {
          await slow.predict({ inputs: [] });
          return { predictions: (payload as V1Request).instances ?? [], ctx: ctx.requestId };
        }
      }
      const p = await predictorServer([protocol === 'v1' ? new SlowV1('t') : slow]);
      cleanups.push(() => slow.release());
      const predictor = new RemotePredictor({ host: host(p, protocol), protocol, timeoutMs: 300, retries: 2 });
      const { url } = await transformerServer(predictor);
      const r =
        protocol === 'v1'
          ? await postJson(`${url}/v1/models/t:predict`, { instances: [1] })
          : await postJson(`${url}/v2/models/t/infer`, {
              inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
            });
      expect(r.status).toBe(503);
      expect(r.body.error).toContain(host(p, protocol));
      expect(r.body.error).toContain('did not answer within 0.3 s');
      await slow.entered;
    });
  }
});

describe('health check', () => {
  for (const protocol of ['v1', 'v2', 'grpc-v2'] as const) {
    it(`${protocol}: the transformer is not ready until its predictor model is, then follows it`, async () => {
      const loading = new SlowLoadModel('t');
      const httpPort = await freePort();
      const grpcPort = await freePort();
      const port = protocol === 'grpc-v2' ? grpcPort : httpPort;
      const predictor = new RemotePredictor({ host: `127.0.0.1:${port}`, protocol });
      const { rest } = await transformerServer(predictor, { healthCheck: true });
      // Nothing listens yet.
      expect(await rest.modelReady('t')).toBe(false);
      expect(await rest.v1ModelReady('t')).toBe(false);
      // The predictor listens only once its models loaded: start it, let it load after a while.
      const started = predictorServer([loading], { httpPort, grpcPort });
      await loading.entered;
      expect(await rest.modelReady('t')).toBe(false);
      loading.release();
      const p = await started;
      await waitFor(() => rest.modelReady('t'), true);
      // The predictor model goes away → the transformer turns not ready.
      await p.repository.unload('t');
      await waitFor(() => rest.modelReady('t'), false);
    });
  }
});

describe('flags', () => {
  it("has KServe's names and defaults", () => {
    const specs: readonly FlagSpec[] = PREDICTOR_FLAGS;
    const byName = Object.fromEntries(specs.map((f) => [f.name, f.default]));
    expect(byName).toEqual({
      predictor_host: undefined,
      predictor_protocol: 'v1',
      predictor_use_ssl: false,
      predictor_request_timeout_seconds: 600,
      predictor_request_retries: 0,
      enable_predictor_health_check: false,
      predictor_model_dir: undefined,
      predictor_model_name: undefined,
    });
  });

  it('builds a RemotePredictor from --predictor_* flags, and refuses bad ones naming the flag', async () => {
    const p = await predictorServer([new LinearModel('lin', 2, 0)]);
    const flags = {
      predictor_host: host(p, 'grpc-v2'),
      predictor_protocol: 'grpc-v2',
      predictor_request_timeout_seconds: 5,
      predictor_request_retries: 1,
      enable_predictor_health_check: true,
      predictor_model_name: 'lin',
    } as const;
    const opts = transformerOptionsFromFlags(flags);
    expect(opts).toMatchObject({ healthCheck: true, predictorModel: 'lin' });
    expect(opts.predictor).toBeInstanceOf(RemotePredictor);
    expect(opts.predictor!.description).toBe(`grpc://${host(p, 'grpc-v2')}`);
    const { rest } = await transformerServer(opts.predictor as RemotePredictor, opts);
    await waitFor(() => rest.modelReady('t'), true);
    const res = await rest.infer('t', { inputs: [X] });
    expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([2, 4, 6]);

    expect(predictorFromFlags({})).toBeUndefined();
    expect(() => predictorFromFlags({ predictor_host: 'h:1', predictor_model_dir: '/m' })).toThrow(/not both/);
    expect(() => predictorFromFlags({ predictor_model_dir: '/m' })).toThrow(/--predictor_model_dir/);
    expect(() => predictorFromFlags({ predictor_host: 'h:1', predictor_request_timeout_seconds: 0 })).toThrow(
      /--predictor_request_timeout_seconds/,
    );
  });
});
