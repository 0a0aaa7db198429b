// Retries (connection errors, 503 with backoff), per-call timeouts, headers and keep-alive of the clients,
// against real loopback servers: a scripted node:http server and a real ModelServer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type InferContext, Model, Overloaded, type Payload, type Result } from '@servekit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError, forwardHeaders, GrpcClient, RestClient } from '../src/index.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback HTTP server answering each request with `handler`; records requests and connections. */
async function scripted(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void) {
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => handler(req, res, seen.length));
  });
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, seen, connections: () => connections };
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function client(base: string, extra: Partial<ConstructorParameters<typeof RestClient>[0]> = {}) {
  const c = new RestClient({ baseUrl: base, backoffMs: 1, maxBackoffMs: 5, ...extra });
  cleanups.push(() => c.close());
  return c;
}

describe('RestClient retries', () => {
  it('retries 503 with backoff and then succeeds', async () => {
    const s = await scripted((_req, res, n) =>
      n <= 2 ? json(res, 503, { error: 'busy' }, { 'retry-after': '0' }) : json(res, 200, { live: true }),
    );
    expect(await client(s.base, { retries: 3 }).serverMetadata()).toEqual({ live: true });
    expect(s.seen).toHaveLength(3);
  });

  it('gives up after the configured retries with the last status and server message', async () => {
    const s = await scripted((_req, res) => json(res, 503, { error: 'Model m is not ready.' }));
    const e = (await client(s.base, { retries: 2 })
      .serverMetadata()
      .catch((err: unknown) => err)) as ClientError;
    expect(e).toBeInstanceOf(ClientError);
    expect(e.status).toBe(503);
    expect(e.message).toBe('Model m is not ready.');
    expect(s.seen).toHaveLength(3);
  });

  it('does not retry 503 when retryOnUnavailable is false, nor 4xx/500 ever', async () => {
    const s503 = await scripted((_req, res) => json(res, 503, { error: 'busy' }));
    await client(s503.base, { retries: 3, retryOnUnavailable: false })
      .serverMetadata()
      .catch(() => undefined);
    expect(s503.seen).toHaveLength(1);
    const s500 = await scripted((_req, res) => json(res, 500, { error: 'boom' }));
    const e = (await client(s500.base, { retries: 3 })
      .serverMetadata()
      .catch((err: unknown) => err)) as ClientError;
    expect(e.status).toBe(500);
    expect(e.message).toBe('boom');
    expect(s500.seen).toHaveLength(1);
  });

  it('readiness 503 is an answer, not an error or a retry', async () => {
    const s = await scripted((_req, res) => json(res, 503, { ready: false }));
    expect(await client(s.base, { retries: 3 }).serverReady()).toBe(false);
    expect(s.seen).toHaveLength(1);
  });

  it('retries a dropped connection (socket hang up)', async () => {
    const s = await scripted((req, res, n) => (n === 1 ? req.socket.destroy() : json(res, 200, { live: true })));
    expect(await client(s.base, { retries: 1 }).serverLive()).toBe(true);
    expect(s.seen).toHaveLength(2);
  });

  it('connection refused is retried, then fails with code ECONNREFUSED', async () => {
    const s = await scripted((_req, res) => json(res, 200, {}));
    const port = new URL(s.base).port;
    for (const c of cleanups.splice(0).reverse()) await c(); // close it: the port now refuses
    const e = (await client(`http://127.0.0.1:${port}`, { retries: 2 })
      .serverLive()
      .catch((err: unknown) => err)) as ClientError;
    expect(e).toBeInstanceOf(ClientError);
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.status).toBeUndefined();
  });

  it('a non-JSON error body is reported as text', async () => {
    const s = await scripted((_req, res) => {
      res.writeHead(502);
      res.end('bad gateway');
    });
    const e = (await client(s.base)
      .serverLive()
      .catch((err: unknown) => err)) as ClientError;
    expect(e.status).toBe(502);
    expect(e.message).toBe('bad gateway');
  });
});

describe('RestClient timeouts and headers', () => {
  it('a call that gets no answer fails with ETIMEDOUT after timeoutMs', async () => {
    const s = await scripted(() => undefined); // never answers
    const e = (await client(s.base, { timeoutMs: 100 })
      .serverLive()
      .catch((err: unknown) => err)) as ClientError;
    expect(e.code).toBe('ETIMEDOUT');
    expect(e.message).toContain('timed out after 100 ms');
  });

  it('a per-call timeout overrides the client one; a caller signal aborts', async () => {
    const s = await scripted(() => undefined);
    const c = client(s.base, { timeoutMs: 60_000 });
    expect(((await c.serverLive({ timeoutMs: 50 }).catch((err: unknown) => err)) as ClientError).code).toBe(
      'ETIMEDOUT',
    );
    const ac = new AbortController();
    const pending = c.serverLive({ signal: ac.signal }).catch((err: unknown) => err);
    ac.abort();
    expect(((await pending) as ClientError).code).toBe('ABORT_ERR');
  });

  it('sends client headers and per-call headers (per-call wins), and keeps the connection alive', async () => {
    const s = await scripted((_req, res) => json(res, 200, { live: true }));
    const c = client(s.base, { headers: { authorization: 'Bearer a', 'x-team': 't' } });
    await c.serverLive();
    await c.serverLive({ headers: { authorization: 'Bearer b', 'x-request-id': 'r-1' } });
    await c.serverLive();
    expect(s.seen[0]!.headers).toMatchObject({ authorization: 'Bearer a', 'x-team': 't' });
    expect(s.seen[1]!.headers).toMatchObject({ authorization: 'Bearer b', 'x-request-id': 'r-1', 'x-team': 't' });
    expect(s.connections()).toBe(1);
  });

  it('keeps a base URL path prefix and escapes model names', async () => {
    const s = await scripted((_req, res) => json(res, 200, { ready: true }));
    await client(`${s.base}/prefix/`).modelReady('a b/c', '1');
    expect(s.seen[0]!.url).toBe('/prefix/v2/models/a%20b%2Fc/versions/1/ready');
  });
});

describe('forwardHeaders', () => {
  it('keeps request id, auth and trace headers only', () => {
    expect(
      forwardHeaders({
        'x-request-id': 'r',
        authorization: 'Bearer t',
        traceparent: '00-1',
        'content-type': 'application/json',
        cookie: 'c',
        'x-b3-traceid': ['a', 'b'],
      }),
    ).toEqual({ 'x-request-id': 'r', authorization: 'Bearer t', traceparent: '00-1', 'x-b3-traceid': 'a, b' });
  });
});

/** Overloaded for the first `busy` requests, then echoes; counts calls. */
class FlakyModel extends Model {
  calls = 0;
  constructor(
    name: string,
    private readonly busy: number,
  ) {
    super(name);
  }

  override predict(payload: Payload, _ctx: InferContext): Result {
    this.calls++;
    if (this.calls <= this.busy) throw new Overloaded('queue full', 0);
    return { model_name: this.name, outputs: (payload as { inputs: never[] }).inputs };
  }
}

/** Never answers until released. */
class StuckModel extends Model {
  private release!: () => void;
  private readonly gate = new Promise<void>((r) => {
    this.release = r;
  });
  async predict(payload: Payload): Promise<Result> {
    await this.gate;
    return { model_name: this.name, outputs: (payload as { inputs: never[] }).inputs };
  }
  override unload(): void {
    this.release();
  }
}

describe('against a real ModelServer', () => {
  const one = { name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.of(1) };

  async function serve(...models: Model[]) {
    const { ModelServer } = await import('@servekit/core');
    const server = new ModelServer({
      httpPort: 0,
      grpcPort: 0,
      host: '127.0.0.1',
      defaultMetrics: false,
      logLevel: 'silent',
      gracePeriodMs: 1000,
    });
    await server.start(models);
    cleanups.push(() => server.stop());
    return server;
  }

  it('REST retries an overloaded model (503 + Retry-After) until it answers', async () => {
    const flaky = new FlakyModel('flaky', 2);
    const server = await serve(flaky);
    const res = await client(`http://127.0.0.1:${server.httpPort}`, { retries: 3 }).infer('flaky', { inputs: [one] });
    expect(res.outputs).toHaveLength(1);
    expect(flaky.calls).toBe(3);
  });

  it('gRPC retries UNAVAILABLE until it answers; with retries 0 it reports UNAVAILABLE', async () => {
    const flaky = new FlakyModel('flaky', 2);
    const server = await serve(flaky);
    const g0 = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
    cleanups.push(() => g0.close());
    const e = (await g0.infer('flaky', { inputs: [one] }).catch((err: unknown) => err)) as ClientError;
    expect(e.grpcCode).toBe(14);
    expect(e.message).toBe('queue full');
    const g = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 3, backoffMs: 1, maxBackoffMs: 5 });
    cleanups.push(() => g.close());
    expect((await g.infer('flaky', { inputs: [one] })).outputs).toHaveLength(1);
    expect(flaky.calls).toBe(3);
  });

  it('gRPC deadline → DEADLINE_EXCEEDED; caller abort → CANCELLED', async () => {
    const server = await serve(new StuckModel('stuck'));
    const g = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
    cleanups.push(() => g.close());
    const e = (await g
      .infer('stuck', { inputs: [one] }, { deadlineMs: 100 })
      .catch((err: unknown) => err)) as ClientError;
    expect(e.grpcCode).toBe(4);
    const ac = new AbortController();
    const pending = g.infer('stuck', { inputs: [one] }, { signal: ac.signal }).catch((err: unknown) => err);
    ac.abort();
    expect(((await pending) as ClientError).grpcCode).toBe(1);
  });

  it('gRPC to a closed port fails with UNAVAILABLE after its retries', async () => {
    const server = await serve(new StuckModel('stuck'));
    const port = server.grpcPort;
    await server.stop();
    const g = new GrpcClient({ address: `127.0.0.1:${port}`, retries: 1, backoffMs: 1, maxBackoffMs: 5 });
    cleanups.push(() => g.close());
    const e = (await g.serverLive().catch((err: unknown) => err)) as ClientError;
    expect(e.grpcCode).toBe(14);
  });
});
