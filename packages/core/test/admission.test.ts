// Admission control without batching: per-model and server-wide concurrency caps, a bounded FIFO wait queue,
// client deadlines (grpc-timeout, x-request-timeout, V2 parameters.timeout) and cancellation, over real sockets.
import { ClientError, GrpcClient } from '@servekit/client';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AdmissionController } from '../src/admission/admission-controller.js';
import { deadlineFromGrpc, deadlineFromHeaders, deadlineFromParameters } from '../src/admission/deadline.js';
import { GrpcCode, Overloaded, ServerNotReady } from '../src/errors.js';
import { type InferContext, Model } from '../src/model/model.js';
import { isInferRequest, type Payload, type Result, type V1Request } from '../src/protocols/infer-types.js';
import { parseFlags, SERVER_FLAGS } from '../src/server/flags.js';
import type { ModelServer, ModelServerOptions } from '../src/server/model-server.js';
import { admissionFromFlags } from '../src/server/options-from-flags.js';
import { startServer } from './helpers.js';

/** Echoes its input, but each predict call waits until the test releases it; counts calls running at once. */
class GatedModel extends Model {
  /** Request ids in the order predict started. */
  readonly calls: string[] = [];
  active = 0;
  maxActive = 0;
  private readonly gates: Array<() => void> = [];

  private released = false;

  override async predict(payload: Payload, ctx: InferContext): Promise<Result> {
    this.calls.push(ctx.requestId);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    if (!this.released) await new Promise<void>((resolve) => this.gates.push(resolve));
    this.active--;
    if (!isInferRequest(payload)) return { predictions: (payload as V1Request).instances ?? [] };
    return { model_name: this.name, outputs: payload.inputs };
  }

  /** Let the oldest waiting predict call finish. */
  releaseOne(): void {
    this.gates.shift()?.();
  }

  /** Let every waiting predict call finish, now and from now on. */
  releaseAll(): void {
    this.released = true;
    for (const g of this.gates.splice(0)) g();
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(models: Model[], options: ModelServerOptions): Promise<ModelServer> {
  const server = await startServer(models, options);
  cleanups.push(() => server.stop());
  for (const m of models) if (m instanceof GatedModel) cleanups.push(() => m.releaseAll());
  return server;
}

const BODY = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] };

/** POST a V2 infer request; resolves with the response (never throws on an HTTP error status). */
function infer(
  server: ModelServer,
  model: string,
  id: string,
  init: { headers?: Record<string, string>; body?: unknown; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`http://127.0.0.1:${server.httpPort}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': id, ...init.headers },
    body: JSON.stringify(init.body ?? BODY),
    signal: init.signal,
  });
}

function grpcClient(server: ModelServer): GrpcClient {
  const client = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
  cleanups.push(() => client.close());
  return client;
}

/** `/metrics` value of one series (undefined when absent). */
async function metric(server: ModelServer, series: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const depth = (model: string) => `servekit_admission_queue_depth{model_name="${model}"}`;
const rejected = (model: string, reason: string) =>
  `servekit_admission_rejected_total{model_name="${model}",reason="${reason}"}`;

/** Wait (polling) until `probe` returns `want`; the test's own timeout bounds it. */
async function until<T>(probe: () => T | Promise<T>, want: T): Promise<void> {
  while ((await probe()) !== want) await new Promise((r) => setTimeout(r, 5));
}

describe('admission control: concurrency cap and FIFO queue', () => {
  it('runs at most --max_concurrent_requests at once per model; queued requests run in arrival order', async () => {
    const m = new GatedModel('m');
    const server = await serve([m], { admission: { maxConcurrentRequests: 2, maxQueueSize: 10 } });
    const pending = [infer(server, 'm', 'r0'), infer(server, 'm', 'r1')];
    await until(() => m.active, 2);
    for (let i = 2; i < 5; i++) {
      pending.push(infer(server, 'm', `r${i}`));
      await until(() => metric(server, depth('m')), i - 1);
    }
    expect(m.calls).toEqual(['r0', 'r1']);
    for (let done = 0; done < 5; done++) {
      m.releaseOne();
      if (done < 3) await until(() => m.calls.length, 3 + done);
    }
    const statuses = await Promise.all(pending.map(async (p) => (await p).status));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(m.calls).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(m.maxActive).toBe(2);
    expect(await metric(server, depth('m'))).toBe(0);
    // The three that waited for a slot count as queued in Triton's statistics; the two that did not, not.
    const stats = (await (await fetch(`http://127.0.0.1:${server.httpPort}/v2/models/m/stats`)).json()) as {
      model_stats: Array<{ inference_stats: { queue: { count: number; ns: number } } }>;
    };
    expect(stats.model_stats[0]!.inference_stats.queue.count).toBe(3);
    expect(stats.model_stats[0]!.inference_stats.queue.ns).toBeGreaterThan(0);
  });

  it('answers 503 + Retry-After at once (Triton: "Exceeds maximum queue size") when the queue is full', async () => {
    const m = new GatedModel('m');
    const server = await serve([m], { admission: { maxConcurrentRequests: 1, maxQueueSize: 1 } });
    const first = infer(server, 'm', 'r0');
    await until(() => m.active, 1);
    const second = infer(server, 'm', 'r1');
    await until(() => metric(server, depth('m')), 1);
    // Answered while r0 still holds the only slot: refused at once, not after waiting.
    const res = await infer(server, 'm', 'r2');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: string }).error).toMatch(/^Exceeds maximum queue size: model m has 1/);
    const grpcErr = await grpcClient(server)
      .infer('m', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([1]) }] })
      .catch((e: unknown) => e);
    expect(grpcErr).toBeInstanceOf(ClientError);
    expect((grpcErr as ClientError).grpcCode).toBe(GrpcCode.UNAVAILABLE);
    expect((grpcErr as ClientError).message).toMatch(/Exceeds maximum queue size/);
    expect(m.calls).toEqual(['r0']);
    expect(await metric(server, rejected('m', 'queue_full'))).toBe(2);
    m.releaseAll();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(m.calls).toEqual(['r0', 'r1']);
  });

  it('V1 :predict requests take the same slots and queue', async () => {
    const m = new GatedModel('m');
    const server = await serve([m], { admission: { maxConcurrentRequests: 1, maxQueueSize: 1 } });
    const v1 = (id: string) =>
      fetch(`http://127.0.0.1:${server.httpPort}/v1/models/m:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify({ instances: [[1, 2]] }),
      });
    const first = infer(server, 'm', 'r0');
    await until(() => m.active, 1);
    const queued = v1('v1-a');
    await until(() => metric(server, depth('m')), 1);
    const refused = await v1('v1-b');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    m.releaseAll();
    expect((await first).status).toBe(200);
    const res = await queued;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ predictions: [[1, 2]] });
    expect(m.calls).toEqual(['r0', 'v1-a']);
  });

  it('--max_queue_size 0: no request waits, one over the cap is refused at once', async () => {
    const m = new GatedModel('m');
    const server = await serve([m], { admission: { maxConcurrentRequests: 1, maxQueueSize: 0 } });
    const first = infer(server, 'm', 'r0');
    await until(() => m.active, 1);
    expect((await infer(server, 'm', 'r1')).status).toBe(503);
    m.releaseAll();
    expect((await first).status).toBe(200);
    expect(m.calls).toEqual(['r0']);
  });

  it('the server-wide cap holds across models and frees slots to the oldest waiter of any model', async () => {
    const a = new GatedModel('a');
    const b = new GatedModel('b');
    const server = await serve([a, b], { admission: { maxConcurrentRequestsTotal: 1, maxQueueSize: 4 } });
    const ra = infer(server, 'a', 'a0');
    await until(() => a.active, 1);
    const rb = infer(server, 'b', 'b0');
    await until(() => metric(server, depth('b')), 1);
    const ra2 = infer(server, 'a', 'a1');
    await until(() => metric(server, depth('a')), 1);
    expect(b.calls).toEqual([]);
    a.releaseOne();
    await until(() => b.active, 1);
    expect(a.active).toBe(0); // b0 arrived before a1: it got the slot
    b.releaseOne();
    await until(() => a.calls.length, 2);
    a.releaseOne();
    expect([(await ra).status, (await rb).status, (await ra2).status]).toEqual([200, 200, 200]);
    expect(a.maxActive + b.maxActive).toBe(2); // each model ran one at a time, never both together
    expect(a.calls).toEqual(['a0', 'a1']);
  });

  it('a client that disconnects while queued leaves the queue and frees its place', async () => {
    const m = new GatedModel('m');
    const server = await serve([m], { admission: { maxConcurrentRequests: 1, maxQueueSize: 1 } });
    const first = infer(server, 'm', 'r0');
    await until(() => m.active, 1);
    const ac = new AbortController();
    const gone = infer(server, 'm', 'r1', { signal: ac.signal }).catch((e: unknown) => e);
    await until(() => metric(server, depth('m')), 1);
    ac.abort();
    expect(await gone).toBeInstanceOf(Error);
    await until(() => metric(server, depth('m')), 0);
    expect(await metric(server, rejected('m', 'cancelled'))).toBe(1);
    const third = infer(server, 'm', 'r2'); // the queue has room again
    await until(() => metric(server, depth('m')), 1);
    m.releaseAll();
    expect([(await first).status, (await third).status]).toEqual([200, 200]);
    expect(m.calls).toEqual(['r0', 'r2']);
  });
});

describe('admission control: client deadlines', () => {
  it('a gRPC call whose deadline passes while queued is dropped: predict never runs for it', async () => {
    const m = new GatedModel('m');
    const server = await serve([m], { admission: { maxConcurrentRequests: 1 } });
    const first = infer(server, 'm', 'r0');
    await until(() => m.active, 1);
    const err = await grpcClient(server)
      .infer(
        'm',
        { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([1]) }] },
        { deadlineMs: 500, metadata: { 'x-request-id': 'late' } },
      )
      .catch((e: unknown) => e);
    expect((err as ClientError).grpcCode).toBe(GrpcCode.DEADLINE_EXCEEDED);
    await until(() => metric(server, depth('m')), 0);
    expect(await metric(server, rejected('m', 'deadline'))).toBe(1);
    m.releaseAll();
    expect((await first).status).toBe(200);
    const after = await infer(server, 'm', 'r2');
    expect(after.status).toBe(200);
    expect(m.calls).toEqual(['r0', 'r2']);
  });

  it('V2 parameters.timeout (µs, Triton) and x-request-timeout (s) drop a queued request with 503 "Request timeout expired"', async () => {
    const m = new GatedModel('m');
    const server = await serve([m], { admission: { maxConcurrentRequests: 1 } });
    const first = infer(server, 'm', 'r0');
    await until(() => m.active, 1);
    const byParam = await infer(server, 'm', 'p', { body: { ...BODY, parameters: { timeout: 100_000 } } });
    expect(byParam.status).toBe(503);
    expect(byParam.headers.get('retry-after')).toBe('1');
    expect(((await byParam.json()) as { error: string }).error).toMatch(/^Request timeout expired/);
    const byHeader = await infer(server, 'm', 'h', { headers: { 'x-request-timeout': '0.1' } });
    expect(byHeader.status).toBe(503);
    expect(((await byHeader.json()) as { error: string }).error).toMatch(/^Request timeout expired/);
    const grpcErr = await grpcClient(server)
      .infer('m', {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([1]) }],
        parameters: { timeout: 100_000 },
      })
      .catch((e: unknown) => e);
    expect((grpcErr as ClientError).grpcCode).toBe(GrpcCode.UNAVAILABLE);
    expect((grpcErr as ClientError).message).toMatch(/^Request timeout expired/);
    expect(await metric(server, rejected('m', 'deadline'))).toBe(3);
    m.releaseAll();
    expect((await first).status).toBe(200);
    // A deadline that does not pass does not stop the request.
    const inTime = await infer(server, 'm', 'ok', {
      headers: { 'x-request-timeout': '30' },
      body: { ...BODY, parameters: { timeout: 30_000_000 } },
    });
    expect(inTime.status).toBe(200);
    expect(m.calls).toEqual(['r0', 'ok']);
  });

  it('refuses a malformed x-request-timeout or parameters.timeout with 400 naming it', async () => {
    const m = new GatedModel('m');
    m.releaseAll();
    const server = await serve([m], { admission: { maxConcurrentRequests: 1 } });
    for (const bad of ['0', '-1', 'soon', '1e3']) {
      const res = await infer(server, 'm', 'b', { headers: { 'x-request-timeout': bad } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/x-request-timeout must be a positive number/);
    }
    for (const bad of [-5, 1.5, 'soon']) {
      const res = await infer(server, 'm', 'b', { body: { ...BODY, parameters: { timeout: bad } } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/parameter "timeout" must be a non-negative/);
    }
    expect(m.calls).toEqual([]);
  });

  it('the batcher drops a member whose deadline passed before its batch ran', async () => {
    const m = new GatedModel('m');
    const server = await serve([m], {
      batching: { maxBatchSize: 4, maxLatencyMs: 0, maxInflightBatches: 1 },
    });
    const first = infer(server, 'm', 'r0');
    await until(() => m.active, 1);
    const late = infer(server, 'm', 'late', { headers: { 'x-request-timeout': '0.05' } });
    const onTime = infer(server, 'm', 'r2');
    await until(() => metric(server, 'servekit_batch_queue_depth{model_name="m"}'), 2);
    await new Promise((r) => setTimeout(r, 100)); // past late's deadline (50 ms), while r0's batch still runs
    m.releaseAll();
    expect((await first).status).toBe(200);
    const lateRes = await late;
    expect(lateRes.status).toBe(503);
    expect(((await lateRes.json()) as { error: string }).error).toMatch(/^Request timeout expired.*batch queue/);
    expect((await onTime).status).toBe(200);
    expect(m.calls).toEqual(['r0', 'r2']);
    expect(await metric(server, 'servekit_batch_rejected_total{model_name="m",reason="deadline"}')).toBe(1);
  });
});

describe('admission control off (default)', () => {
  it('requests run at once, without limit, and no admission metrics exist', async () => {
    const m = new GatedModel('m');
    const server = await serve([m], {});
    const pending = [0, 1, 2, 3].map((i) => infer(server, 'm', `r${i}`, { headers: { 'x-request-timeout': '30' } }));
    await until(() => m.active, 4);
    expect(await metric(server, depth('m'))).toBeUndefined();
    m.releaseAll();
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('flags: both caps 0 (default) → no admission options; caps and queue size come from the flags', () => {
    expect(admissionFromFlags(parseFlags([], SERVER_FLAGS, {}).flags)).toBeUndefined();
    expect(
      admissionFromFlags(
        parseFlags(['--max_concurrent_requests', '4', '--max_queue_size', '8'], SERVER_FLAGS, {
          SERVEKIT_MAX_CONCURRENT_REQUESTS_TOTAL: '16',
        }).flags,
      ),
    ).toEqual({ maxConcurrentRequests: 4, maxConcurrentRequestsTotal: 16, maxQueueSize: 8 });
    expect(() => admissionFromFlags(parseFlags(['--max_concurrent_requests=-1'], SERVER_FLAGS, {}).flags)).toThrow(
      /--max_concurrent_requests\) must be an integer ≥ 0, got -1/,
    );
  });
});

describe('deadline parsing', () => {
  it('x-request-timeout is seconds; parameters.timeout is µs (0: none); a gRPC deadline is epoch ms', () => {
    expect(deadlineFromHeaders({ 'x-request-timeout': '0.25' }, 1000)).toBe(1250);
    expect(deadlineFromHeaders({ 'x-request-timeout': '.5' }, 1000)).toBe(1500);
    expect(deadlineFromHeaders({ 'x-request-timeout': '2' }, 0)).toBe(2000);
    expect(deadlineFromHeaders({}, 0)).toBeUndefined();
    expect(deadlineFromParameters({ timeout: 100_000 }, 1000)).toBe(1100);
    expect(deadlineFromParameters({ timeout: 0 }, 1000)).toBeUndefined();
    expect(deadlineFromParameters({ other: 1 }, 1000)).toBeUndefined();
    expect(deadlineFromGrpc(Number.POSITIVE_INFINITY, 0)).toBeUndefined();
    const inAnHour = deadlineFromGrpc(new Date(Date.now() + 3_600_000), 0)!;
    expect(inAnHour).toBeGreaterThan(3_000_000); // an hour from now, on the monotonic clock
    expect(inAnHour).toBeLessThanOrEqual(3_600_000);
  });
});

describe('AdmissionController', () => {
  const ctx = (): InferContext => ({
    headers: {},
    protocol: 'v2',
    requestId: 'r',
    signal: new AbortController().signal,
  });

  it('close() fails waiting requests with ServerNotReady (never running them) and lets running ones finish', async () => {
    const registry = new Registry();
    const ac = new AdmissionController({ maxConcurrentRequests: 1, maxQueueSize: 1 }, registry);
    let release!: () => void;
    const running = ac.run('m', ctx(), () => new Promise<string>((r) => (release = () => r('first'))));
    let ran = false;
    const waiting = ac.run('m', ctx(), async () => {
      ran = true;
    });
    await expect(ac.run('m', ctx(), async () => 'third')).rejects.toBeInstanceOf(Overloaded);
    expect(ac.queueDepth('m')).toBe(1);
    ac.close();
    await expect(waiting).rejects.toBeInstanceOf(ServerNotReady);
    await expect(ac.run('m', ctx(), async () => 'late')).rejects.toBeInstanceOf(ServerNotReady);
    release();
    expect(await running).toBe('first');
    expect(ran).toBe(false);
    expect(ac.running).toBe(0);
    const text = await registry.metrics();
    expect(text).toContain('servekit_admission_rejected_total{model_name="m",reason="shutdown"} 1');
    expect(text).toContain('servekit_admission_rejected_total{model_name="m",reason="queue_full"} 1');
    expect(text).toContain('servekit_admission_queue_depth{model_name="m"} 0');
  });

  it('a failing request frees its slot for the next waiter', async () => {
    const ac = new AdmissionController({ maxConcurrentRequests: 1 }, new Registry());
    let fail!: (e: Error) => void;
    const first = ac.run('m', ctx(), () => new Promise<never>((_, reject) => (fail = reject)));
    const second = ac.run('m', ctx(), async () => 'second');
    fail(new Error('model failed'));
    await expect(first).rejects.toThrow('model failed');
    expect(await second).toBe('second');
    expect(ac.running).toBe(0);
  });
});
