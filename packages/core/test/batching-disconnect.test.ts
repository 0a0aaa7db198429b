// Over REST, a request waiting in the batch queue whose client disconnects is dropped: it never reaches the model
// and is counted as cancelled, not answered; the requests queued with it still get their answers.
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../src/model/model.js';
import { isInferRequest, type Payload, type Result } from '../src/protocols/infer-types.js';
import type { ModelServer } from '../src/server/model-server.js';
import { startServer } from './helpers.js';

/** Echoes `x` (FP32 [n, 1]) as `y`; each run waits until the test releases it, and records the rows it saw. */
class GatedModel extends Model {
  runs: number[][] = [];
  private waiting: Array<() => void> = [];

  override async predict(payload: Payload): Promise<Result> {
    if (!isInferRequest(payload)) throw new Error('V2 only');
    const x = payload.inputs[0]!;
    this.runs.push(Array.from(x.data as Float32Array));
    await new Promise<void>((r) => this.waiting.push(r));
    return { model_name: this.name, outputs: [{ ...x, name: 'y' }] };
  }

  get pending(): number {
    return this.waiting.length;
  }

  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

/** Wait (bounded) until `cond` holds; fails the test instead of hanging. */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A V2 JSON body with one FP32 [1, 1] input `x`. */
function body(value: number): string {
  return JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [value] }] });
}

describe('REST client disconnecting while its request is queued for batching', () => {
  let server: ModelServer;
  const model = new GatedModel('gated');
  let closedEarly = 0;
  beforeAll(async () => {
    server = await startServer([model], { batching: { maxBatchSize: 8, maxLatencyMs: 0, maxInflightBatches: 1 } });
    // Count responses the server saw close before their answer (the disconnect reached it).
    server.http!.server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.on('close', () => {
        if (!res.writableFinished) closedEarly++;
      });
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  const url = () => `http://127.0.0.1:${server.httpPort}/v2/models/gated/infer`;
  const post = (value: number, signal?: AbortSignal) =>
    fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(value), signal });
  /** The V2 answer's `y` data. */
  const yOf = async (r: Response) => ((await r.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
  const metrics = async () => (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();

  it('never runs the gone request and answers the others', async () => {
    const first = post(1);
    await until(() => model.pending === 1, 'the first batch to run');
    const ac = new AbortController();
    const gone = post(2, ac.signal).catch((err: Error) => err.name);
    await until(async () => /servekit_batch_queue_depth\{model_name="gated"\} 1/.test(await metrics()), 'queued');
    ac.abort();
    await until(() => closedEarly === 1, 'the server to see the disconnect');
    const last = post(3);
    await until(async () => /servekit_batch_queue_depth\{model_name="gated"\} 2/.test(await metrics()), 'queued');
    model.release();
    expect(await yOf(await first)).toEqual([1]);
    await until(() => model.pending === 1, 'the second batch to run');
    model.release();
    const answer = await last;
    expect(answer.status).toBe(200);
    expect(await yOf(answer)).toEqual([3]);
    expect(await gone).toBe('AbortError');
    expect(model.runs).toEqual([[1], [3]]);
    expect(await metrics()).toMatch(/servekit_batch_rejected_total\{model_name="gated",reason="cancelled"\} 1/);
  });
});
