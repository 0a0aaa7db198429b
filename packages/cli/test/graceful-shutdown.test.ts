// SIGTERM under steady keep-alive load (REST and gRPC, 32 concurrent clients each) on the real `servekit serve`
// process: readiness turns 503 while requests are still answered for the drain delay, then the listeners close,
// requests still arriving on open connections are answered with `Connection: close`, in-flight ones finish, and the
// process exits 0. No request is left without an answer: every one gets 200 or 503 with Retry-After, or is refused
// before it is sent (the listener is closed: a client would go to another endpoint).

import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { ClientError, GrpcClient } from '@servekit/client';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, ROOT, serve } from './cli-process.js';

afterAll(killAll);

const MODULE = join(ROOT, 'packages/cli/test/fixtures/sleep-model.mjs');
const CONCURRENCY = 32;
const BODY = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });

interface Tally {
  /** Answers by status (503s counted apart when they lack Retry-After). */
  answers: Map<string, number>;
  /** Requests that got no answer: reset, hang-up, cancelled… (by error). */
  dropped: Map<string, number>;
  /** Requests refused before being sent (connection refused: nothing listens any more). */
  refused: number;
}

const tally = (): Tally => ({ answers: new Map(), dropped: new Map(), refused: 0 });
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** One REST infer over the keep-alive agent; resolves with the outcome. */
function restInfer(base: string, agent: Agent): Promise<{ status?: number; retryAfter?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(
      `${base}/v2/models/sleep/infer`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] as string | undefined }),
        );
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(BODY);
  });
}

/** CONCURRENCY loops of REST infers until the server refuses connections. */
async function restLoad(base: string, t: Tally, sent: { n: number }): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const worker = async () => {
    for (;;) {
      sent.n++;
      const r = await restInfer(base, agent);
      if (r.error === 'ECONNREFUSED') {
        t.refused++;
        return;
      }
      if (r.error !== undefined) bump(t.dropped, r.error);
      else
        bump(t.answers, r.status === 503 && r.retryAfter === undefined ? '503 without Retry-After' : String(r.status));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
}

/** CONCURRENCY loops of gRPC infers until the server refuses connections. */
async function grpcLoad(address: string, t: Tally, sent: { n: number }): Promise<void> {
  const client = new GrpcClient({ address, retries: 0 });
  const input = { name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.of(1) };
  const worker = async () => {
    for (;;) {
      sent.n++;
      try {
        await client.infer('sleep', { inputs: [input] });
        bump(t.answers, '200');
      } catch (err) {
        const e = err as ClientError;
        if (!(e instanceof ClientError)) throw err;
        if (e.grpcCode === 14 && /ECONNREFUSED/.test(e.message)) {
          t.refused++;
          return;
        }
        // UNAVAILABLE "Server is shutting down." is the gRPC 503; anything else is a dropped call.
        if (e.grpcCode === 14 && /shutting down/.test(e.message)) bump(t.answers, '503');
        else bump(t.dropped, `${e.grpcCode}: ${e.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  client.close();
}

describe('servekit serve: graceful shutdown under load', () => {
  it('SIGTERM drops no REST or gRPC request; readiness (on --health_port) turns 503 first; exit 0', async () => {
    const r = await serve([
      '--model_module',
      MODULE,
      '--model_name',
      'sleep',
      '--drain_delay_seconds',
      '1',
      '--health_port',
      '0',
    ]);
    expect(r.health).toBeDefined();
    const rest = tally();
    const grpc = tally();
    const restSent = { n: 0 };
    const grpcSent = { n: 0 };
    const loads = Promise.all([restLoad(r.base, rest, restSent), grpcLoad(r.grpc, grpc, grpcSent)]);
    while ((rest.answers.get('200') ?? 0) < 200 || (grpc.answers.get('200') ?? 0) < 200) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const exited = once(r.proc, 'exit');
    const atSigterm = { rest: rest.answers.get('200')!, grpc: grpc.answers.get('200')! };
    r.proc.kill('SIGTERM');
    // Readiness turns 503 (asked on the health port, as a Kubernetes probe would) while requests are still served.
    const probe = new Agent({ keepAlive: false });
    let readyStatus: number | undefined;
    for (;;) {
      const got = await new Promise<number | string>((resolve) => {
        const req = request(`${r.health}/v2/health/ready`, { agent: probe }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        req.end();
      });
      if (typeof got === 'string' || got === 503) {
        readyStatus = typeof got === 'number' ? got : undefined;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const [code] = await exited;
    await loads;

    expect(readyStatus).toBe(503);
    expect(code).toBe(0);
    expect(Object.fromEntries(rest.dropped)).toEqual({});
    expect(Object.fromEntries(grpc.dropped)).toEqual({});
    expect([...rest.answers.keys(), ...grpc.answers.keys()].filter((k) => k !== '200' && k !== '503')).toEqual([]);
    // Requests kept being answered after SIGTERM (the drain delay), and every loop ended on a refused connection.
    expect(rest.answers.get('200')!).toBeGreaterThan(atSigterm.rest);
    expect(grpc.answers.get('200')!).toBeGreaterThan(atSigterm.grpc);
    expect(rest.refused).toBe(CONCURRENCY);
    expect(grpc.refused).toBe(CONCURRENCY);
    const answered = (t: Tally) => [...t.answers.values()].reduce((a, b) => a + b, 0);
    expect(answered(rest) + rest.refused).toBe(restSent.n);
    expect(answered(grpc) + grpc.refused).toBe(grpcSent.n);
  });
});
