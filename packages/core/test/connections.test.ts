// Connection-level answers over raw sockets: headers over the size limit get 431 with `Connection: close` and the
// connection closes cleanly; a request body that never completes gets 408 after the request timeout and the
// connection closes; the optional health port answers the health routes, and turns not-ready on stop.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EchoModel, startServer } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Send `data` on a fresh connection; resolves with everything received and how the connection ended. */
async function exchange(port: number, data: string): Promise<{ text: string; ended: 'end' | string; socket: Socket }> {
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  let text = '';
  socket.on('data', (d) => (text += d));
  socket.write(data);
  const ended = await new Promise<string>((resolve) => {
    socket.once('end', () => resolve('end'));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  return { text, ended, socket };
}

describe('client errors', () => {
  it('431 for oversized headers carries Connection: close and the server closes the connection cleanly', async () => {
    const server = await startServer([new EchoModel('echo')], { enableGrpc: false });
    cleanups.push(() => server.stop());
    const big = 'a'.repeat(20 * 1024);
    const { text, ended } = await exchange(
      server.httpPort,
      `GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text).toMatch(/"error":"Request headers are larger than the server accepts\."/);
    expect(ended).toBe('end');
  });

  it('a request whose body never completes gets 408 after the request timeout, then the connection closes', async () => {
    const server = await startServer([new EchoModel('echo')], { enableGrpc: false, requestTimeoutMs: 500 });
    cleanups.push(() => server.stop());
    const { text, ended } = await exchange(
      server.httpPort,
      'POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inputs": [',
    );
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text).toContain('within 0.5 s (--request_timeout_seconds)');
    expect(ended).toBe('end');
  });
});

describe('health port', () => {
  it('answers /, /v2/health/live and /v2/health/ready on its own port; ready turns 503 on stop', async () => {
    const server = await startServer([new EchoModel('echo')], { enableGrpc: false, healthPort: 0, drainDelayMs: 300 });
    let stopped: Promise<void> | undefined;
    cleanups.push(() => stopped ?? server.stop());
    const health = `http://127.0.0.1:${server.healthPort}`;
    expect(server.healthPort).not.toBe(server.httpPort);
    expect(await (await fetch(`${health}/`)).json()).toEqual({ status: 'alive' });
    expect(await (await fetch(`${health}/v2/health/live`)).json()).toEqual({ live: true });
    const ready = await fetch(`${health}/v2/health/ready`);
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
    expect((await fetch(`${health}/v2/models/echo`)).status).toBe(404); // only health routes
    stopped = server.stop();
    const draining = await fetch(`${health}/v2/health/ready`, { headers: { connection: 'close' } });
    expect([draining.status, await draining.json()]).toEqual([503, { ready: false }]);
    await stopped;
  });
});
