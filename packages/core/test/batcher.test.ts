import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Batcher, type BatchingOptions, batchMetrics } from '../src/batching/batcher.js';
import { DeadlineExceeded, InferenceError, Overloaded, RequestCancelled, ServerNotReady } from '../src/errors.js';
import type { InferContext } from '../src/model/model.js';
import {
  type InferRequest,
  type InferResponse,
  type InferTensor,
  isInferRequest,
  type Payload,
  type Result,
  type V1Request,
  type V1Response,
} from '../src/protocols/infer-types.js';
import { plain, sampleTensors } from './helpers.js';

function ctx(signal: AbortSignal = new AbortController().signal): InferContext {
  return { headers: {}, protocol: 'v2', requestId: 'r', signal };
}

/** A real compute function that echoes every input as an output named `out_<input>` and doubles FP32 `x`. */
function echo(payload: Payload): Result {
  if (!isInferRequest(payload)) {
    return { predictions: (payload as V1Request).instances!.map((r) => (r as number[]).map((v) => v * 10)) };
  }
  const outputs: InferTensor[] = payload.inputs.map((t) => {
    if (t.name === 'x' && t.datatype === 'FP32') {
      return { ...t, name: 'out_x', data: (t.data as Float32Array).map((v) => v * 2) };
    }
    return { ...t, name: `out_${t.name}` };
  });
  return { model_name: 'm', outputs };
}

/** A controllable model: records each merged batch, answers when released (or at once when `auto`). */
class Gate {
  batches: Payload[] = [];
  private waiting: Array<() => void> = [];
  auto = false;
  failWith?: Error;

  run = async (payload: Payload): Promise<Result> => {
    this.batches.push(payload);
    if (!this.auto) await new Promise<void>((r) => this.waiting.push(r));
    if (this.failWith) throw this.failWith;
    return echo(payload);
  };

  /** Release every batch waiting now. */
  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }

  get pending(): number {
    return this.waiting.length;
  }
}

function xRequest(values: number[], rows = values.length, id?: string): InferRequest {
  const req: InferRequest = {
    inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, values.length / rows], data: Float32Array.from(values) }],
  };
  if (id) req.id = id;
  return req;
}

function rowsOf(p: Payload): number {
  return isInferRequest(p) ? p.inputs[0]!.shape[0]! : (p as V1Request).instances!.length;
}

const tick = () => new Promise((r) => setTimeout(r, 5));

function batcher(gate: Gate, options: Partial<BatchingOptions> = {}, registry = new Registry()): Batcher {
  return new Batcher(
    'm',
    gate.run,
    { maxBatchSize: 8, maxLatencyMs: 1000, maxInflightBatches: 1, dispatchWhenIdle: false, ...options },
    batchMetrics(registry),
  );
}

describe('Batcher', () => {
  it('merges concurrent compatible requests into one batch and gives each caller its own rows and id', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = batcher(gate, { maxBatchSize: 4 });
    const results = await Promise.all([
      b.submit(xRequest([1, 2], 1, 'a'), ctx()),
      b.submit(xRequest([3, 4, 5, 6], 2, 'b'), ctx()),
      b.submit(xRequest([7, 8], 1, 'c'), ctx()),
    ]);
    expect(gate.batches).toHaveLength(1);
    expect(rowsOf(gate.batches[0]!)).toBe(4);
    const [a, bb, c] = results as InferResponse[];
    expect(a!.id).toBe('a');
    expect(Array.from(a!.outputs[0]!.data as Float32Array)).toEqual([2, 4]);
    expect(bb!.id).toBe('b');
    expect(bb!.outputs[0]!.shape).toEqual([2, 2]);
    expect(Array.from(bb!.outputs[0]!.data as Float32Array)).toEqual([6, 8, 10, 12]);
    expect(Array.from(c!.outputs[0]!.data as Float32Array)).toEqual([14, 16]);
  });

  it('merges and splits every datatype, BYTES, FP16 and INT64 included', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = batcher(gate, { maxBatchSize: 64, maxLatencyMs: 5 });
    const cases = sampleTensors(true);
    for (const t of cases) {
      // Two requests with one row each of this datatype (row = the whole case tensor reshaped to [1, n]).
      const n = Array.isArray(t.data) ? t.data.length : t.data.length;
      const one: InferTensor = { ...t, name: 'v', shape: [1, n] };
      const [r1, r2] = (await Promise.all([
        b.submit({ inputs: [one] }, ctx()),
        b.submit({ inputs: [one] }, ctx()),
      ])) as InferResponse[];
      const merged = gate.batches.at(-1) as InferRequest;
      expect(merged.inputs[0]!.shape, t.datatype).toEqual([2, n]);
      expect(plain(r1!.outputs[0]!.data), t.datatype).toEqual(plain(t.data));
      expect(plain(r2!.outputs[0]!.data), t.datatype).toEqual(plain(t.data));
    }
    expect(gate.batches).toHaveLength(cases.length);
  });

  it('puts requests with different non-batch dims, datatypes, outputs or parameters in separate batches', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = batcher(gate, { maxBatchSize: 16, maxLatencyMs: 5, maxInflightBatches: 4 });
    const wide = xRequest([1, 2, 3], 1);
    const narrow = xRequest([1, 2], 1);
    const f64: InferRequest = {
      inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 2], data: Float64Array.from([1, 2]) }],
    };
    const withParam: InferRequest = { ...xRequest([1, 2], 1), parameters: { predict_proba: true } };
    const withOutputs: InferRequest = { ...xRequest([1, 2], 1), outputs: [{ name: 'out_x' }] };
    const all = [wide, narrow, f64, withParam, withOutputs, xRequest([5, 6], 1)];
    const results = (await Promise.all(all.map((r) => b.submit(r, ctx())))) as InferResponse[];
    expect(gate.batches).toHaveLength(5); // the last request joins `narrow`
    expect(results[5]!.outputs[0]!.shape).toEqual([1, 2]);
    expect(Array.from(results[5]!.outputs[0]!.data as Float32Array)).toEqual([10, 12]);
  });

  it('runs a request larger than maxBatchSize alone instead of rejecting it', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = batcher(gate, { maxBatchSize: 2, maxLatencyMs: 5 });
    const big = xRequest([1, 2, 3, 4, 5], 5);
    const [res] = (await Promise.all([b.submit(big, ctx()), b.submit(xRequest([9], 1), ctx())])) as InferResponse[];
    expect(res!.outputs[0]!.shape).toEqual([5, 1]);
    expect(gate.batches.map(rowsOf).sort()).toEqual([1, 5]);
  });

  it('dispatches as soon as maxBatchSize rows are queued, before the latency timer', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = batcher(gate, { maxBatchSize: 2, maxLatencyMs: 60_000 });
    const res = await Promise.all([b.submit(xRequest([1], 1), ctx()), b.submit(xRequest([2], 1), ctx())]);
    expect(res).toHaveLength(2);
    expect(gate.batches.map(rowsOf)).toEqual([2]);
  });

  it('answers 503 at once when the queue is full', async () => {
    const gate = new Gate();
    const registry = new Registry();
    const b = batcher(gate, { maxBatchSize: 4, maxQueueSize: 3, maxLatencyMs: 0 }, registry);
    const first = b.submit(xRequest([1], 1), ctx()); // dispatched, running
    await tick();
    const queued = [b.submit(xRequest([1, 2], 2), ctx()), b.submit(xRequest([3], 1), ctx())]; // 3 rows queued
    await expect(b.submit(xRequest([4], 1), ctx())).rejects.toBeInstanceOf(Overloaded);
    await expect(b.submit(xRequest([4], 1), ctx())).rejects.toThrow(/overloaded: 3 rows are queued \(limit 3\)/);
    expect(await registry.getSingleMetricAsString('servekit_batch_rejected_total')).toMatch(
      /servekit_batch_rejected_total\{[^}]*reason="queue_full"[^}]*\} 2/,
    );
    gate.release();
    await first;
    await tick();
    gate.release();
    await Promise.all(queued);
  });

  it('fails a request queued longer than timeoutMs with DeadlineExceeded, and the rest still run', async () => {
    const gate = new Gate();
    const b = batcher(gate, { maxBatchSize: 4, maxLatencyMs: 0, timeoutMs: 30 });
    const running = b.submit(xRequest([1], 1), ctx());
    await tick();
    const stuck = b.submit(xRequest([2], 1), ctx()); // waits behind the running batch (1 slot)
    await expect(stuck).rejects.toBeInstanceOf(DeadlineExceeded);
    expect(b.queuedRows).toBe(0);
    gate.release();
    expect(((await running) as InferResponse).outputs[0]!.data).toEqual(Float32Array.from([2]));
  });

  it('fails every member of a batch with the model error', async () => {
    const gate = new Gate();
    gate.auto = true;
    gate.failWith = new InferenceError('model exploded');
    const b = batcher(gate, { maxBatchSize: 4, maxLatencyMs: 5 });
    const results = await Promise.allSettled([b.submit(xRequest([1], 1), ctx()), b.submit(xRequest([2], 1), ctx())]);
    expect(gate.batches).toHaveLength(1);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.message).toBe('model exploded');
    }
  });

  it('drops a member whose client went away while queued, without breaking the others', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = batcher(gate, { maxBatchSize: 8, maxLatencyMs: 20 });
    const ac = new AbortController();
    const gone = b.submit(xRequest([1], 1), ctx(ac.signal));
    const stays = b.submit(xRequest([2], 1), ctx());
    ac.abort();
    await expect(gone).rejects.toBeInstanceOf(RequestCancelled);
    const res = (await stays) as InferResponse;
    expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([4]);
    expect(gate.batches.map(rowsOf)).toEqual([1]);
  });

  it('keeps a batch running when one dispatched member goes away', async () => {
    const gate = new Gate();
    const b = batcher(gate, { maxBatchSize: 2, maxLatencyMs: 0 });
    const ac = new AbortController();
    const gone = b.submit(xRequest([1], 1), ctx(ac.signal));
    const stays = b.submit(xRequest([2], 1), ctx());
    await tick();
    expect(gate.batches).toHaveLength(1);
    ac.abort();
    gate.release();
    expect(((await stays) as InferResponse).outputs[0]!.data).toEqual(Float32Array.from([4]));
    await gone; // resolved; the transport just has nobody to send it to
  });

  it('runs at most maxInflightBatches at once and forms bigger batches while the model is busy', async () => {
    const gate = new Gate();
    const b = batcher(gate, { maxBatchSize: 8, maxLatencyMs: 0, maxInflightBatches: 2 });
    const all = [b.submit(xRequest([1], 1), ctx())];
    await tick();
    all.push(b.submit(xRequest([2], 1), ctx()));
    await tick();
    expect(b.inflightBatches).toBe(2);
    for (let i = 0; i < 5; i++) all.push(b.submit(xRequest([i], 1), ctx()));
    await tick();
    expect(gate.pending).toBe(2); // no third batch while two run
    expect(b.queuedRows).toBe(5);
    gate.release();
    await tick();
    await tick();
    expect(gate.batches.map(rowsOf)).toEqual([1, 1, 5]);
    gate.release();
    await Promise.all(all);
  });

  it('prefers the largest preferred batch size that the queue can fill', async () => {
    const gate = new Gate();
    const b = batcher(gate, { maxBatchSize: 8, maxLatencyMs: 10, preferredBatchSizes: [2, 4], maxInflightBatches: 1 });
    const first = b.submit(xRequest([0], 1), ctx()); // occupies the slot after 10 ms
    await new Promise((r) => setTimeout(r, 20));
    const rest = Array.from({ length: 7 }, (_, i) => b.submit(xRequest([i], 1), ctx()));
    await tick();
    gate.release(); // frees the slot; 7 rows queued → a batch of 4 (largest preferred, full)
    await first;
    await tick();
    expect(gate.batches.map(rowsOf)).toEqual([1, 4]);
    gate.release();
    await new Promise((r) => setTimeout(r, 30)); // timer: 3 rows left → preferred 2
    gate.release();
    await new Promise((r) => setTimeout(r, 30));
    gate.release();
    await Promise.all(rest);
    expect(gate.batches.map(rowsOf)).toEqual([1, 4, 2, 1]);
  });

  it('batches V1 instances by rows like tensors', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = batcher(gate, { maxBatchSize: 8, maxLatencyMs: 5 });
    const [a, c] = (await Promise.all([
      b.submit({ instances: [[1, 2]] }, ctx()),
      b.submit(
        {
          instances: [
            [3, 4],
            [5, 6],
          ],
        },
        ctx(),
      ),
    ])) as V1Response[];
    expect(gate.batches).toHaveLength(1);
    expect((gate.batches[0] as V1Request).instances).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(a!.predictions).toEqual([[10, 20]]);
    expect(c!.predictions).toEqual([
      [30, 40],
      [50, 60],
    ]);
  });

  it('fails clearly when the model returns an output without the batch dim', async () => {
    const b = new Batcher(
      'm',
      async () => ({
        model_name: 'm',
        outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: Float32Array.from([1]) }],
      }),
      { maxBatchSize: 4, maxLatencyMs: 5, dispatchWhenIdle: false },
    );
    const results = await Promise.allSettled([b.submit(xRequest([1], 1), ctx()), b.submit(xRequest([2], 1), ctx())]);
    for (const r of results)
      expect((r as PromiseRejectedResult).reason.message).toMatch(
        /output "y" has shape \[1\] but the batch had 2 rows/,
      );
  });

  it('rejects queued requests with 503 on close and waits for running batches', async () => {
    const gate = new Gate();
    const b = batcher(gate, { maxBatchSize: 4, maxLatencyMs: 0 });
    const running = b.submit(xRequest([1], 1), ctx());
    await tick();
    const queued = b.submit(xRequest([2], 1), ctx());
    const closing = b.close();
    await expect(queued).rejects.toBeInstanceOf(ServerNotReady);
    gate.release();
    await closing;
    await running;
    await expect(b.submit(xRequest([3], 1), ctx())).rejects.toBeInstanceOf(ServerNotReady);
  });

  it('starts a request at once when the model is idle, and batches the ones arriving while it runs', async () => {
    const gate = new Gate();
    const b = batcher(gate, { maxBatchSize: 8, maxLatencyMs: 60_000, dispatchWhenIdle: true });
    const first = b.submit(xRequest([1], 1), ctx());
    await Promise.resolve();
    expect(gate.batches.map(rowsOf)).toEqual([1]); // no latency wait on an idle model
    const rest = [2, 3, 4].map((v) => b.submit(xRequest([v], 1), ctx()));
    gate.release();
    await first;
    await tick();
    expect(gate.batches.map(rowsOf)).toEqual([1, 3]); // queued while busy → one batch when the slot frees
    gate.release();
    await Promise.all(rest);
  });

  it('records batch size, queue time and queue depth metrics', async () => {
    const gate = new Gate();
    gate.auto = true;
    const registry = new Registry();
    const b = batcher(gate, { maxBatchSize: 3, maxLatencyMs: 5 }, registry);
    await Promise.all([1, 2, 3].map((v) => b.submit(xRequest([v], 1), ctx())));
    const text = await registry.metrics();
    expect(text).toContain('servekit_batch_size_count{model_name="m"} 1');
    expect(text).toContain('servekit_batch_size_sum{model_name="m"} 3');
    expect(text).toContain('servekit_batch_queue_seconds_count{model_name="m"} 3');
    expect(text).toContain('servekit_batch_queue_depth{model_name="m"} 0');
  });
  it('reports the rows queued at scrape time in the depth gauge, and 0 once closed', async () => {
    const gate = new Gate();
    const registry = new Registry();
    const b = batcher(gate, { maxBatchSize: 8, maxLatencyMs: 60_000 }, registry);
    const depth = async () =>
      /servekit_batch_queue_depth\{model_name="m"\} (\d+)/.exec(await registry.metrics())?.[1] ?? 'absent';
    const first = b.submit(xRequest([1, 2], 2), ctx());
    const second = b.submit(xRequest([3, 4, 5], 3), ctx());
    expect(await depth()).toBe('5');
    await b.close();
    await expect(first).rejects.toThrow(/shutting down/);
    await expect(second).rejects.toThrow(/shutting down/);
    expect(await depth()).toBe('0');
  });
  it('starts the next batch before the members of the finished one get their answers', async () => {
    const gate = new Gate();
    const b = batcher(gate, { maxBatchSize: 1, dispatchWhenIdle: true });
    const events: string[] = [];
    const first = b
      .submit(xRequest([1]), ctx())
      .then(() => events.push(`answered 1 (batches started: ${gate.batches.length})`));
    const second = b.submit(xRequest([2]), ctx());
    await tick();
    expect(gate.batches).toHaveLength(1); // one run slot: the second request waits for it
    gate.release();
    await first;
    expect(events).toEqual(['answered 1 (batches started: 2)']);
    gate.release();
    await second;
  });
});
