// A Transformer server and its predictor server, both with authentication on (the same token file), on loopback:
// the caller's `authorization` is checked at the transformer and forwarded to the predictor over V1, V2 REST and
// gRPC; a caller without it stops at the transformer; the transformer's predictor health check works unauthenticated.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InferContext, type Payload, type PredictorProtocol, Transformer } from '@servekit/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EchoModel, startServer } from '../../core/test/helpers.js';
import { GrpcClient, RemotePredictor, RestClient } from '../src/index.js';

const TOKEN = 'caller-token.0123456789';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let tokenFile: string;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'servekit-auth-t-'));
  tokenFile = join(dir, 'tokens');
  await writeFile(tokenFile, `${TOKEN}\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Remembers the authorization each request reached it with. */
class Recording extends Transformer {
  seen: (string | undefined)[] = [];

  override preprocess(payload: Payload, ctx: InferContext): Payload {
    this.seen.push(ctx.headers.authorization as string | undefined);
    return payload;
  }
}

async function chain(protocol: PredictorProtocol) {
  const echo = new EchoModel('echo');
  const predictor = await startServer([echo], { auth: { tokenFile } });
  cleanups.push(() => predictor.stop());
  const port = protocol === 'grpc-v2' ? predictor.grpcPort : predictor.httpPort;
  const remote = new RemotePredictor({ host: `127.0.0.1:${port}`, protocol });
  const t = new Recording('t', {
    predictor: remote,
    predictorModel: 'echo',
    healthCheck: true,
    healthCheckIntervalMs: 20,
  });
  const transformer = await startServer([t], { auth: { tokenFile } });
  cleanups.push(() => transformer.stop());
  return { echo, t, transformer, predictor, base: `http://127.0.0.1:${transformer.httpPort}` };
}

const x = { name: 'x', datatype: 'FP32' as const, shape: [2], data: Float32Array.of(1, 2) };

describe('transformer → predictor, both with auth on', () => {
  it.each(['v1', 'v2', 'grpc-v2'] as const)('%s: the caller’s bearer token passes both servers', async (protocol) => {
    const { echo, t, transformer, predictor, base } = await chain(protocol);
    // The health check asked the predictor's model readiness without credentials, and the transformer is ready.
    expect((await fetch(`${base}/v2/models/t/ready`)).status).toBe(200);

    const authorization = `Bearer ${TOKEN}`;
    const rest = new RestClient({ baseUrl: base, retries: 0, headers: { authorization } });
    const grpc = new GrpcClient({
      address: `127.0.0.1:${transformer.grpcPort}`,
      retries: 0,
      metadata: { authorization },
    });
    cleanups.push(() => rest.close());
    cleanups.push(() => grpc.close());
    if (protocol === 'v1') {
      expect(await rest.v1Predict('t', { instances: [[1, 2]] })).toEqual({ predictions: [[1, 2]] });
    } else {
      for (const res of [await rest.infer('t', { inputs: [x] }), await grpc.infer('t', { inputs: [x] })]) {
        expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([1, 2]);
      }
    }
    expect(echo.lastCtx?.headers.authorization).toBe(authorization);

    // Without credentials the call stops at the transformer: its model never runs, the predictor is never asked.
    const calls = t.seen.length;
    const anonymous = new RestClient({ baseUrl: base, retries: 0 });
    cleanups.push(() => anonymous.close());
    await expect(anonymous.infer('t', { inputs: [x] })).rejects.toMatchObject({ status: 401 });
    expect(t.seen.length).toBe(calls);
    const predictorMetrics = await (await fetch(`http://127.0.0.1:${predictor.httpPort}/metrics`)).text();
    const hop = protocol === 'grpc-v2' ? 'grpc' : 'http';
    for (const reason of ['missing', 'invalid']) {
      expect(predictorMetrics).toContain(`servekit_auth_failures_total{protocol="${hop}",reason="${reason}"} 0`);
    }
    expect(t.seen.every((a) => a === authorization)).toBe(true);
  });

  it('a transformer without auth in front of a predictor with auth: only callers with a token get through', async () => {
    const predictor = await startServer([new EchoModel('echo')], { auth: { tokenFile } });
    cleanups.push(() => predictor.stop());
    const remote = new RemotePredictor({ host: `127.0.0.1:${predictor.httpPort}`, protocol: 'v2' });
    const transformer = await startServer([new Recording('t', { predictor: remote, predictorModel: 'echo' })]);
    cleanups.push(() => transformer.stop());
    const base = `http://127.0.0.1:${transformer.httpPort}`;
    const anonymous = new RestClient({ baseUrl: base, retries: 0 });
    const caller = new RestClient({ baseUrl: base, retries: 0, headers: { authorization: `Bearer ${TOKEN}` } });
    cleanups.push(() => anonymous.close());
    cleanups.push(() => caller.close());
    await expect(anonymous.infer('t', { inputs: [x] })).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining('answered 401: Authentication required'),
    });
    expect(Array.from((await caller.infer('t', { inputs: [x] })).outputs[0]!.data as Float32Array)).toEqual([1, 2]);
  });
});
