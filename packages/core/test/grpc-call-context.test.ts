// The gRPC request context makes its abort signal (an AbortController and a 'cancelled' listener) only when
// something reads `ctx.signal`, aborts it when the client cancels before the answer, and not for the 'cancelled'
// grpc-js reports after every finished call (it does so on each stream close).
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '@servekit/client';
import { afterEach, describe, expect, it } from 'vitest';
import { type InferContext, Model } from '../src/model/model.js';
import { grpcCallContext } from '../src/protocols/grpc-call-context.js';
import { isInferRequest, type Payload, type Result } from '../src/protocols/infer-types.js';
import type { ModelServer } from '../src/server/model-server.js';
import { startServer } from './helpers.js';

/** A stand-in for grpc-js's server call: an emitter with the fields grpcCallContext reads. */
class FakeCall extends EventEmitter {
  cancelled = false;
  metadata = new grpc.Metadata();
  deadline: grpc.Deadline = Number.POSITIVE_INFINITY;
  getDeadline(): grpc.Deadline {
    return this.deadline;
  }
}
const contextOf = (call: FakeCall, bodyId?: string) =>
  grpcCallContext(call as unknown as grpc.ServerUnaryCall<unknown, unknown>, bodyId);

describe('grpcCallContext', () => {
  it('listens for the cancellation only once the signal is read', () => {
    const call = new FakeCall();
    const { ctx } = contextOf(call);
    expect(call.listenerCount('cancelled')).toBe(0);
    const signal = ctx.signal;
    expect(call.listenerCount('cancelled')).toBe(1);
    expect(ctx.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    call.emit('cancelled', 'cancelled');
    expect(signal.aborted).toBe(true);
  });

  it('is not aborted by the cancellation grpc-js reports after the call was answered', () => {
    const call = new FakeCall();
    const { ctx, settle } = contextOf(call);
    const signal = ctx.signal;
    settle();
    expect(call.listenerCount('cancelled')).toBe(0);
    call.cancelled = true;
    call.emit('cancelled', 'cancelled');
    expect(signal.aborted).toBe(false);
  });

  it('is aborted at once when the call was cancelled before the signal was read', () => {
    const call = new FakeCall();
    const { ctx } = contextOf(call);
    call.cancelled = true;
    expect(ctx.signal.aborted).toBe(true);
  });

  it('answers clientGone from the call state, without a listener, and not after the call was answered', () => {
    const call = new FakeCall();
    const { ctx, settle } = contextOf(call);
    expect(ctx.clientGone?.()).toBe(false);
    call.cancelled = true;
    expect(ctx.clientGone?.()).toBe(true);
    expect(call.listenerCount('cancelled')).toBe(0);
    settle();
    expect(ctx.clientGone?.()).toBe(false);
  });

  it('takes headers from the metadata, the request id from x-request-id or the body, the deadline from the call', () => {
    const call = new FakeCall();
    call.metadata.set('x-request-id', 'from-header');
    call.metadata.set('trace-bin', Buffer.from('ab'));
    call.deadline = Date.now() + 60_000;
    const { ctx } = contextOf(call, 'from-body');
    expect(ctx.headers).toEqual({ 'x-request-id': 'from-header', 'trace-bin': 'ab' });
    expect(ctx.requestId).toBe('from-header');
    expect(ctx.protocol).toBe('grpc-v2');
    expect(ctx.deadline).toBeGreaterThan(performance.now() + 50_000);
    expect(contextOf(new FakeCall(), 'from-body').ctx.requestId).toBe('from-body');
    expect(contextOf(new FakeCall()).ctx.deadline).toBeUndefined();
  });
});

/** Echoes its input; keeps every request's abort signal; waits for the test's release when `gated`. */
class SignalModel extends Model {
  readonly signals: AbortSignal[] = [];
  gated = false;
  private readonly gates: Array<() => void> = [];

  override async predict(payload: Payload, ctx: InferContext): Promise<Result> {
    this.signals.push(ctx.signal);
    if (this.gated) await new Promise<void>((resolve) => this.gates.push(resolve));
    if (!isInferRequest(payload)) return { predictions: [] };
    return { model_name: this.name, outputs: payload.inputs };
  }

  /** Let every waiting predict call finish. */
  releaseAll(): void {
    for (const g of this.gates.splice(0)) g();
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(model: SignalModel): Promise<{ server: ModelServer; client: GrpcClient }> {
  const server = await startServer([model]);
  cleanups.push(() => server.stop());
  cleanups.push(() => model.releaseAll());
  const client = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
  cleanups.push(() => client.close());
  return { server, client };
}

const REQUEST = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1], data: new Float32Array([1]) }] };

describe('ModelInfer abort signal over a real gRPC connection', () => {
  it('aborts the signal of a call the client cancels while it runs', async () => {
    const model = new SignalModel('m');
    model.gated = true;
    const { client } = await serve(model);
    const ac = new AbortController();
    const gone = client.infer('m', REQUEST, { signal: ac.signal }).catch((e: unknown) => e);
    while (model.signals.length === 0) await new Promise((r) => setTimeout(r, 5));
    const signal = model.signals[0]!;
    expect(signal.aborted).toBe(false);
    ac.abort();
    expect(await gone).toBeInstanceOf(Error);
    while (!signal.aborted) await new Promise((r) => setTimeout(r, 5));
    expect(signal.aborted).toBe(true);
  });

  it('leaves the signal of answered calls alone after grpc-js closes their streams', async () => {
    const model = new SignalModel('m');
    const { client } = await serve(model);
    for (let i = 0; i < 3; i++) {
      const res = await client.infer('m', REQUEST);
      expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([1]);
    }
    // grpc-js reports a cancellation on every stream close, one tick after it: let those run.
    await new Promise((r) => setTimeout(r, 200));
    expect(model.signals).toHaveLength(3);
    expect(model.signals.map((s) => s.aborted)).toEqual([false, false, false]);
  });
});
