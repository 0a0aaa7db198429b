// `servekit serve` listens before its models load: live answers 200 and ready 503 while a slow model loads (HTTP,
// gRPC and --health_port), ready 200 once it is loaded; the "serving" log line still comes after the load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient } from '@servekit/client';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, ROOT, serve, stop } from './cli-process.js';

afterAll(killAll);

const MODULE = join(ROOT, 'packages/cli/test/fixtures/gated-load-model.mjs');

describe('servekit serve: start-up while a model loads', () => {
  it('answers live 200 and ready 503 during the load, then ready 200 and logs the serving line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'servekit-gate-'));
    const gate = join(dir, 'open');
    try {
      const r = await serve(
        ['--model_module', MODULE, '--model_name', 'gated', '--health_port', '0'],
        { LOAD_GATE: gate },
        undefined,
        'listening',
      );
      const grpc = new GrpcClient({ address: r.grpc });
      try {
        for (const base of [r.base, r.health!]) {
          const live = await fetch(`${base}/v2/health/live`);
          expect(live.status).toBe(200);
          expect(await live.json()).toEqual({ live: true });
          const ready = await fetch(`${base}/v2/health/ready`);
          expect(ready.status).toBe(503);
          expect(await ready.json()).toEqual({ ready: false });
        }
        expect((await fetch(`${r.base}/`)).status).toBe(200);
        expect(await grpc.serverLive()).toBe(true);
        expect(await grpc.serverReady()).toBe(false);
        expect((await fetch(`${r.base}/v2/models/gated/ready`)).status).toBe(503);
        expect(r.log.some((l) => l.includes('"http"'))).toBe(false);

        writeFileSync(gate, '');
        let status = 503;
        while (status === 503) {
          status = (await fetch(`${r.base}/v2/health/ready`)).status;
          if (status === 503) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(status).toBe(200);
        expect((await fetch(`${r.health}/v2/health/ready`)).status).toBe(200);
        expect(await grpc.serverReady()).toBe(true);
        // The serving line is written as readiness turns true: wait for it to arrive.
        const servingLine = () =>
          r.log
            .join('\n')
            .split('\n')
            .find((l) => l.includes('"http"'));
        while (servingLine() === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
        const serving = servingLine();
        expect(serving).toBeDefined();
        expect(JSON.parse(serving!)).toMatchObject({ http: r.base.slice('http://'.length), models: ['gated:READY'] });
      } finally {
        grpc.close();
        expect(await stop(r)).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
