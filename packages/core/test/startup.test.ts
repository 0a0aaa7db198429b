// Start-up order: the server listens (live, not ready) before the models load, on HTTP, gRPC and the health port.
import { GrpcClient } from '@servekit/client';
import { ModelServer } from '@servekit/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SlowLoadModel } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('start-up while a model loads', () => {
  it('answers live 200 and ready 503 (HTTP, gRPC, health port) until the model is loaded, then ready 200', async () => {
    const slow = new SlowLoadModel('slow');
    const server = new ModelServer({
      httpPort: 0,
      grpcPort: 0,
      healthPort: 0,
      host: '127.0.0.1',
      defaultMetrics: false,
      logLevel: 'silent',
    });
    cleanups.push(() => server.stop());
    let started = false;
    const starting = server.start([slow]).then((a) => {
      started = true;
      return a;
    });
    await slow.entered;
    const base = `http://127.0.0.1:${server.httpPort}`;
    const health = `http://127.0.0.1:${server.healthPort}`;
    const grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}` });
    cleanups.push(() => grpc.close());

    for (const url of [base, health]) {
      const live = await fetch(`${url}/v2/health/live`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ live: true });
      const ready = await fetch(`${url}/v2/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ ready: false });
    }
    expect(await grpc.serverLive()).toBe(true);
    expect(await grpc.serverReady()).toBe(false);
    expect((await fetch(`${base}/v2/models/slow/ready`)).status).toBe(503);
    expect(started).toBe(false);

    slow.release();
    const addresses = await starting;
    expect(addresses.httpPort).toBe(server.httpPort);
    const ready = await fetch(`${base}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    expect((await fetch(`${health}/v2/health/ready`)).status).toBe(200);
    expect(await grpc.serverReady()).toBe(true);
    expect((await fetch(`${base}/v2/models/slow/ready`)).status).toBe(200);
  });

  it('logs where it listens before loading (no "http" key, ready false), then the serving line once loaded', async () => {
    const lines: Array<{ line: Record<string, unknown>; ready: boolean }> = [];
    let server: ModelServer | undefined;
    const logger = pino(
      { level: 'info' },
      {
        write: (text: string) => {
          lines.push({ line: JSON.parse(text) as Record<string, unknown>, ready: server!.dataplane.ready() });
        },
      },
    );
    server = new ModelServer({ httpPort: 0, enableGrpc: false, host: '127.0.0.1', defaultMetrics: false, logger });
    cleanups.push(() => server!.stop());
    const slow = new SlowLoadModel('slow');
    const starting = server.start([slow]);
    await slow.entered;
    expect(lines).toHaveLength(1);
    expect(lines[0]!.line).toMatchObject({ http_address: `127.0.0.1:${server.httpPort}`, loading: ['slow'] });
    expect(lines[0]!.line).not.toHaveProperty('http');
    expect(lines[0]!.ready).toBe(false);
    slow.release();
    await starting;
    const serving = lines.find((l) => 'http' in l.line)!;
    expect(serving.line).toMatchObject({ http: `127.0.0.1:${server.httpPort}`, models: ['slow:READY'] });
    expect(serving.ready).toBe(true);
  });
});
