// Graceful stop with in-flight requests (REST and gRPC), and gRPC message size limits.
import { ClientError, GrpcClient, RestClient } from '@servekit/client';
import { afterEach, describe, expect, it } from 'vitest';
import { type InferContext, Model } from '../src/model/model.js';
import type { Payload, Result } from '../src/protocols/infer-types.js';
import { EchoModel, SlowModel, startServer } from './helpers.js';

/** Waits in predict until the request's signal aborts; `aborted` resolves with the protocol it saw. */
class AbortAwareModel extends Model {
  entered!: Promise<void>;
  aborted!: Promise<string>;
  private markEntered!: () => void;
  private markAborted!: (protocol: string) => void;

  constructor(name: string) {
    super(name);
    this.arm();
  }

  arm(): void {
    this.entered = new Promise((r) => {
      this.markEntered = r;
    });
    this.aborted = new Promise((r) => {
      this.markAborted = r;
    });
  }

  override predict(_payload: Payload, ctx: InferContext): Promise<Result> {
    this.markEntered();
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => {
        this.markAborted(ctx.protocol);
        reject(new Error('client went away'));
      });
    });
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const one = { name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.of(42) };

describe('graceful stop', () => {
  it('lets an in-flight REST request finish, turns readiness false, then refuses connections', async () => {
    const slow = new SlowModel('slow');
    const server = await startServer([slow]);
    cleanups.push(() => server.stop());
    const rest = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
    cleanups.push(() => rest.close());

    const pending = rest.infer('slow', { inputs: [one] });
    await slow.entered;
    const stopped = server.stop();
    expect(server.dataplane.ready()).toBe(false);
    slow.release();
    const res = await pending;
    expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([42]);
    await stopped;
    expect(slow.ready).toBe(false);
    const fresh = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
    cleanups.push(() => fresh.close());
    const e = (await fresh.serverLive().catch((err: unknown) => err)) as ClientError;
    expect(e).toBeInstanceOf(ClientError);
    expect(e.code).toBe('ECONNREFUSED');
  });

  it('lets an in-flight gRPC request finish', async () => {
    const slow = new SlowModel('slow');
    const server = await startServer([slow]);
    cleanups.push(() => server.stop());
    const grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
    cleanups.push(() => grpc.close());

    const pending = grpc.infer('slow', { inputs: [one] });
    await slow.entered;
    const stopped = server.stop();
    slow.release();
    const res = await pending;
    expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([42]);
    await stopped;
  });

  it('stop is idempotent', async () => {
    const server = await startServer([new EchoModel('echo')]);
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
  });
});

describe('client disconnects abort the request context', () => {
  it('REST and gRPC cancellations reach ctx.signal', async () => {
    const model = new AbortAwareModel('waiter');
    const server = await startServer([model]);
    cleanups.push(() => server.stop());
    const rest = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
    const grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
    cleanups.push(() => rest.close());
    cleanups.push(() => grpc.close());

    let ac = new AbortController();
    const r = rest.infer('waiter', { inputs: [one] }, { signal: ac.signal }).catch((err: unknown) => err);
    await model.entered;
    ac.abort();
    expect(await model.aborted).toBe('v2');
    expect(((await r) as ClientError).code).toBe('ABORT_ERR');

    model.arm();
    ac = new AbortController();
    const g = grpc.infer('waiter', { inputs: [one] }, { signal: ac.signal }).catch((err: unknown) => err);
    await model.entered;
    ac.abort();
    expect(await model.aborted).toBe('grpc-v2');
    expect(((await g) as ClientError).grpcCode).toBe(1);
  });
});

describe('gRPC message size limit', () => {
  it('a request over grpcMaxMessageSize fails with RESOURCE_EXHAUSTED; the server keeps serving', async () => {
    const server = await startServer([new EchoModel('echo')], { grpcMaxMessageSize: 16 * 1024 });
    cleanups.push(() => server.stop());
    const grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
    cleanups.push(() => grpc.close());
    const big = { name: 'x', datatype: 'FP32' as const, shape: [8192], data: new Float32Array(8192) };
    const e = (await grpc.infer('echo', { inputs: [big] }).catch((err: unknown) => err)) as ClientError;
    expect(e.grpcCode).toBe(8);
    const ok = await grpc.infer('echo', { inputs: [one] });
    expect(ok.outputs).toHaveLength(1);
  });
});
