// Batcher semantics against a real row-wise compute function: every batched answer must equal the answer
// of running the same request alone. No timing thresholds: tests compare counts, contents and order.

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Batcher, type BatchingOptions, batchMetrics } from '../src/batching/batcher.js';
import {
  DeadlineExceeded,
  InferenceError,
  InvalidInput,
  Overloaded,
  RequestCancelled,
  ServerNotReady,
} from '../src/errors.js';
import type { InferContext } from '../src/model/model.js';
import {
  type InferRequest,
  type InferResponse,
  type InferTensor,
  isInferRequest,
  isInferResponse,
  type Payload,
  type Result,
  type V1Request,
  type V1Response,
} from '../src/protocols/infer-types.js';
import { allocate } from '../src/tensor/datatypes.js';
import { plain, plainOutputs, sampleTensors } from './helpers.js';

function ctx(signal: AbortSignal = new AbortController().signal): InferContext {
  return { headers: {}, protocol: 'v2', requestId: 'r', signal };
}

/**
 * Real row-wise compute. V2: FP32 `x` [n, w] → `y` = 2x + 1 (FP32 [n, w]) and `sum` = row sums (FP64 [n, 1]);
 * every other input is echoed as `out_<name>`. V1: each instance (a number row) → its weighted sum.
 * Validates data against shape like an engine would, so malformed requests fail.
 */
function compute(payload: Payload): Result {
  if (!isInferRequest(payload)) {
    const rows = (payload as V1Request).instances as number[][];
    return { predictions: rows.map((r) => r.reduce((s, v, i) => s + v * (i + 1), 0)) };
  }
  const outputs: InferTensor[] = [];
  for (const t of payload.inputs) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if ((t.data as ArrayLike<unknown>).length !== n) {
      throw new InvalidInput(`input ${t.name} has ${(t.data as ArrayLike<unknown>).length} elements, shape says ${n}`);
    }
    if (t.name === 'x' && t.datatype === 'FP32') {
      const [rows, w] = [t.shape[0]!, t.shape[1]!];
      const x = t.data as Float32Array;
      const y = new Float32Array(x.length);
      const sum = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < w; i++) {
          y[r * w + i] = 2 * x[r * w + i]! + 1;
          sum[r]! += x[r * w + i]!;
        }
      }
      outputs.push({ name: 'y', datatype: 'FP32', shape: [rows, w], data: y });
      outputs.push({ name: 'sum', datatype: 'FP64', shape: [rows, 1], data: sum });
    } else {
      outputs.push({ ...t, name: `out_${t.name}`, parameters: undefined });
    }
  }
  return { model_name: 'm', outputs };
}

/** A controllable model: records each payload and context it runs, answers when released (or at once when `auto`). */
class Gate {
  batches: Payload[] = [];
  contexts: InferContext[] = [];
  results: Result[] = [];
  private waiting: Array<() => void> = [];
  auto = false;
  failWith?: Error;
  fn: (p: Payload) => Result = compute;

  run = async (payload: Payload, c: InferContext): Promise<Result> => {
    this.batches.push(payload);
    this.contexts.push(c);
    if (!this.auto) await new Promise<void>((r) => this.waiting.push(r));
    if (this.failWith) throw this.failWith;
    const result = this.fn(payload);
    this.results.push(result);
    return result;
  };

  /** Release every batch waiting now. */
  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }

  get pending(): number {
    return this.waiting.length;
  }
}

/** Let queued microtasks and immediates run (no wall-clock wait). */
async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Wait (bounded) until `cond` holds; fails the test instead of hanging. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

function xRequest(rows: number, width: number, seed: number, id?: string): InferRequest {
  const data = Float32Array.from({ length: rows * width }, (_, k) => seed * 100 + k);
  const req: InferRequest = { inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, width], data }] };
  if (id !== undefined) req.id = id;
  return req;
}

function rowsOf(p: Payload): number {
  return isInferRequest(p) ? p.inputs[0]!.shape[0]! : ((p as V1Request).instances ?? []).length;
}

function make(gate: Gate, options: Partial<BatchingOptions> = {}, registry = new Registry()): Batcher {
  return new Batcher(
    'm',
    gate.run,
    { maxBatchSize: 8, maxLatencyMs: 60_000, maxInflightBatches: 1, dispatchWhenIdle: false, ...options },
    batchMetrics(registry),
  );
}

/** Occupy the only run slot with a one-row request so that later submissions queue up. */
async function occupy(b: Batcher, gate: Gate): Promise<{ running: Promise<Result> }> {
  const running = b.submit(xRequest(1, 1, 999), ctx());
  await until(() => gate.pending > 0, 'the blocking batch to start');
  return { running }; // wrapped: an async function returning a promise would wait for it
}

describe('Batcher: merge and split', () => {
  it('gives every caller exactly the unbatched answer, with its own id, for a mixed stream', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = make(gate, { maxBatchSize: 8, maxLatencyMs: 1, maxInflightBatches: 2 });
    const requests = Array.from({ length: 40 }, (_, i) => xRequest(1 + (i % 4), i % 3 === 0 ? 3 : 5, i, `id-${i}`));
    const got = (await Promise.all(requests.map((r) => b.submit(r, ctx())))) as InferResponse[];
    for (const [i, r] of requests.entries()) {
      const want = compute(r) as InferResponse;
      expect(got[i]!.id, `request ${i}`).toBe(`id-${i}`);
      expect(plainOutputs(got[i]!), `request ${i}`).toEqual(plainOutputs(want));
    }
    expect(gate.batches.length).toBeLessThan(requests.length);
    for (const p of gate.batches) expect(rowsOf(p)).toBeLessThanOrEqual(8);
    expect(gate.batches.reduce((n, p) => n + rowsOf(p), 0)).toBe(requests.reduce((n, r) => n + rowsOf(r), 0));
  });

  it('concatenates every datatype (BYTES, FP16, BF16, INT64, UINT64 included) with one copy and splits it back', async () => {
    const gate = new Gate();
    const b = make(gate, { maxBatchSize: 64 });
    for (const sample of sampleTensors(true)) {
      const n = (sample.data as ArrayLike<unknown>).length;
      // Three requests with distinct data (rows 1, 2, 1): each is the sample rotated, so any mis-split shows.
      const parts = [1, 2, 1].map((rows, k) => {
        const src = sample.data as ArrayLike<unknown>;
        const rotated = Array.from({ length: rows * n }, (_, i) => src[(i + k) % n]);
        const data = Array.isArray(sample.data)
          ? (rotated as InferTensor['data'])
          : (() => {
              const a = allocate(sample.datatype as 'FP32', rows * n) as unknown as { [i: number]: unknown };
              rotated.forEach((v, i) => {
                a[i] = v;
              });
              return a as unknown as InferTensor['data'];
            })();
        const t: InferTensor = { name: 'v', datatype: sample.datatype, shape: [rows, n], data };
        return { inputs: [t] } as InferRequest;
      });
      const running = parts.map((p) => b.submit(p, ctx()));
      expect(b.queuedRows, sample.datatype).toBe(4);
      // Fill the batch to the max size with a 60-row request so it dispatches without a timer.
      const filler = allocate(sample.datatype === 'BYTES' ? 'UINT8' : (sample.datatype as 'UINT8'), 60 * n);
      const fillData = sample.datatype === 'BYTES' ? Array.from({ length: 60 * n }, () => 'f') : filler;
      running.push(
        b.submit({ inputs: [{ name: 'v', datatype: sample.datatype, shape: [60, n], data: fillData }] }, ctx()),
      );
      await until(() => gate.pending === 1, `${sample.datatype} batch`);
      const merged = (gate.batches.at(-1) as InferRequest).inputs[0]!;
      expect(merged.shape, sample.datatype).toEqual([64, n]);
      expect(plain(merged.data).slice(0, 4 * n), sample.datatype).toEqual(
        parts.flatMap((p) => plain(p.inputs[0]!.data)),
      );
      if (!Array.isArray(merged.data)) {
        const first = parts[0]!.inputs[0]!.data as ArrayBufferView;
        expect(merged.data.constructor, sample.datatype).toBe(first.constructor);
        expect(merged.data.buffer, sample.datatype).not.toBe(first.buffer);
      }
      gate.release();
      const results = (await Promise.all(running)) as InferResponse[];
      const batchOut = (gate.results.at(-1) as InferResponse).outputs[0]!;
      for (const [k, p] of parts.entries()) {
        const out = results[k]!.outputs[0]!;
        expect(out.shape, sample.datatype).toEqual(p.inputs[0]!.shape);
        expect(plain(out.data), sample.datatype).toEqual(plain(p.inputs[0]!.data));
        // Typed outputs are views into the batch's output, not copies.
        if (!Array.isArray(out.data)) expect(out.data.buffer).toBe((batchOut.data as ArrayBufferView).buffer);
      }
    }
    expect(gate.batches).toHaveLength(sampleTensors(true).length);
  });

  it('merges requests whose inputs come in a different order, and each caller gets its own rows', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = make(gate, { maxBatchSize: 3 });
    const a = (seed: number): InferTensor => ({
      name: 'a',
      datatype: 'INT32',
      shape: [1, 2],
      data: Int32Array.of(seed, seed + 1),
    });
    const s = (text: string): InferTensor => ({ name: 's', datatype: 'BYTES', shape: [1], data: [text] });
    const reqs: InferRequest[] = [
      { inputs: [a(1), s('one')] },
      { inputs: [s('two'), a(2)] },
      { inputs: [a(3), s('three')] },
    ];
    const res = (await Promise.all(reqs.map((r) => b.submit(r, ctx())))) as InferResponse[];
    expect(gate.batches).toHaveLength(1);
    expect(res.map((r) => plain(r.outputs.find((t) => t.name === 'out_a')!.data))).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    expect(res.map((r) => r.outputs.find((t) => t.name === 'out_s')!.data)).toEqual([['one'], ['two'], ['three']]);
  });

  it('batches across transport-only parameters but not across model parameters or tensor parameters', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = make(gate, { maxBatchSize: 16, maxLatencyMs: 0, maxInflightBatches: 4 });
    const plainReq = xRequest(1, 2, 1);
    const binaryOut: InferRequest = { ...xRequest(1, 2, 2), parameters: { binary_data_output: true } };
    const perOutputBinary: InferRequest = {
      ...xRequest(1, 2, 3),
      outputs: [{ name: 'y', parameters: { binary_data: true } }],
    };
    const plainOutputsReq: InferRequest = { ...xRequest(1, 2, 4), outputs: [{ name: 'y' }] };
    const proba: InferRequest = { ...xRequest(1, 2, 5), parameters: { predict_proba: true } };
    const contentType: InferRequest = xRequest(1, 2, 6);
    contentType.inputs[0]!.parameters = { content_type: 'np' };
    const all = [plainReq, binaryOut, perOutputBinary, plainOutputsReq, proba, contentType];
    const results = (await Promise.all(all.map((r) => b.submit(r, ctx())))) as InferResponse[];
    expect(gate.batches.map(rowsOf).sort()).toEqual([1, 1, 2, 2]);
    // The merged payloads carry no transport-only parameters.
    for (const p of gate.batches) {
      const req = p as InferRequest;
      expect(req.parameters?.binary_data_output).toBeUndefined();
      for (const o of req.outputs ?? []) expect(o.parameters?.binary_data).toBeUndefined();
    }
    for (const [i, r] of all.entries())
      expect(plainOutputs(results[i]!)).toEqual(plainOutputs(compute(r) as InferResponse));
  });

  it('hands a lone request the model result untouched, but fails a merged batch whose output has no batch dim', async () => {
    const gate = new Gate();
    gate.fn = () => ({
      model_name: 'm',
      outputs: [{ name: 'score', datatype: 'FP32', shape: [], data: Float32Array.of(42) }],
    });
    const b = make(gate, { maxBatchSize: 4, maxLatencyMs: 0 });
    const alone = b.submit(xRequest(3, 1, 1), ctx());
    await until(() => gate.pending === 1, 'lone batch');
    const together = [b.submit(xRequest(1, 1, 2), ctx()), b.submit(xRequest(1, 1, 3), ctx())];
    gate.release();
    expect(((await alone) as InferResponse).outputs[0]!.shape).toEqual([]);
    await until(() => gate.pending === 1, 'merged batch');
    gate.release();
    const settled = await Promise.allSettled(together);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      const err = (s as PromiseRejectedResult).reason as Error;
      expect(err).toBeInstanceOf(InferenceError);
      expect(err.message).toMatch(/output "score" has shape \[\] but the batch had 2 rows \(2 requests merged\)/);
    }
  });

  it('runs a request whose data does not match its shape alone, so only that request fails', async () => {
    const gate = new Gate();
    const b = make(gate, { maxBatchSize: 8, maxLatencyMs: 0 });
    const { running } = await occupy(b, gate);
    const bad: InferRequest = {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: Float32Array.of(1, 2, 3) }],
    };
    const all = Promise.allSettled([
      b.submit(xRequest(1, 2, 1), ctx()),
      b.submit(bad, ctx()),
      b.submit(xRequest(1, 2, 2), ctx()),
    ]);
    gate.release();
    await running;
    for (const n of [2, 3]) {
      await until(() => gate.batches.length === n && gate.pending === 1, `batch ${n}`);
      gate.release();
    }
    const [g1, b1, g2] = await all;
    expect(plain(((g1 as PromiseFulfilledResult<Result>).value as InferResponse).outputs[0]!.data)).toEqual([201, 203]);
    expect(plain(((g2 as PromiseFulfilledResult<Result>).value as InferResponse).outputs[0]!.data)).toEqual([401, 403]);
    expect((b1 as PromiseRejectedResult).reason).toBeInstanceOf(InvalidInput);
    // The good ones were merged, the bad one ran alone.
    const inputs = gate.batches.slice(1).map((p) => plain((p as InferRequest).inputs[0]!.data));
    expect(inputs).toContainEqual([100, 101, 200, 201]);
    expect(inputs).toContainEqual([1, 2, 3]);
  });

  it('runs a request larger than maxBatchSize alone, while the small ones still batch', async () => {
    const gate = new Gate();
    const b = make(gate, { maxBatchSize: 4, maxLatencyMs: 0 });
    const { running } = await occupy(b, gate);
    const big = b.submit(xRequest(6, 2, 1), ctx());
    const small = [1, 2, 3].map((s) => b.submit(xRequest(1, 2, 10 + s), ctx()));
    expect(b.queuedRows).toBe(9);
    gate.release();
    await running;
    await until(() => gate.pending === 1 && gate.batches.length === 2, 'the oversize batch');
    expect(rowsOf(gate.batches[1]!)).toBe(6); // oldest first
    gate.release();
    await until(() => gate.pending === 1 && gate.batches.length === 3, 'the small batch');
    expect(rowsOf(gate.batches[2]!)).toBe(3);
    gate.release();
    expect(((await big) as InferResponse).outputs[0]!.shape).toEqual([6, 2]);
    await Promise.all(small);
  });
});

describe('Batcher: V1 and mixed result shapes', () => {
  it('batches V1 instances by rows; columnar inputs and different parameters run apart', async () => {
    const gate = new Gate();
    const b = make(gate, { maxBatchSize: 8, maxLatencyMs: 0 });
    const { running } = await occupy(b, gate);
    const v1 = (rows: number[][], extra: Partial<V1Request> = {}): V1Request => ({ instances: rows, ...extra });
    const bodies: V1Request[] = [
      v1([[1, 2]]),
      v1([
        [3, 4],
        [5, 6],
      ]),
      v1([[7, 8]], { parameters: { predict_proba: true } }),
      { inputs: { a: [1, 2] } },
      v1([[9, 10]]),
    ];
    gate.fn = (p) => {
      const body = p as V1Request;
      if (body.inputs !== undefined) return { outputs: { columnar: true } };
      return compute(p);
    };
    const pending = bodies.map((x) => b.submit(x, ctx()));
    gate.release();
    await running;
    for (let i = 0; i < 3; i++) {
      await until(() => gate.pending === 1, `V1 batch ${i}`);
      gate.release();
    }
    const res = (await Promise.all(pending)) as V1Response[];
    const first = gate.batches[1] as V1Request;
    expect(first.instances).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [9, 10],
    ]);
    expect(gate.batches).toHaveLength(4);
    expect(res[0]!.predictions).toEqual([5]);
    expect(res[1]!.predictions).toEqual([11, 17]);
    expect(res[2]!.predictions).toEqual([23]);
    expect(res[3]).toEqual({ outputs: { columnar: true } });
    expect(res[4]!.predictions).toEqual([29]);
  });

  it('splits a V2 result for V1 members and V1 predictions for V2 members', async () => {
    const gate = new Gate();
    gate.auto = true;
    // V1 instances → the model answers with a V2 tensor; V2 tensors → the model answers with V1 predictions.
    gate.fn = (p) => {
      if (!isInferRequest(p)) {
        const rows = (p as V1Request).instances as number[];
        return {
          model_name: 'm',
          outputs: [{ name: 'y', datatype: 'FP64', shape: [rows.length], data: Float64Array.from(rows, (v) => v * 3) }],
        };
      }
      return { predictions: Array.from(p.inputs[0]!.data as Float32Array, (v) => v + 0.5) };
    };
    const b = make(gate, { maxBatchSize: 3 });
    const v1 = (await Promise.all([
      b.submit({ instances: [1] }, ctx()),
      b.submit({ instances: [2, 3] }, ctx()),
    ])) as InferResponse[];
    expect(v1.map((r) => (isInferResponse(r) ? plain(r.outputs[0]!.data) : r))).toEqual([[3], [6, 9]]);
    expect(gate.batches).toHaveLength(1);
    const v2 = (await Promise.all([1, 2, 3].map((s) => b.submit(xRequest(1, 1, s), ctx())))) as V1Response[];
    expect(v2.map((r) => r.predictions)).toEqual([[100.5], [200.5], [300.5]]);
  });

  it('fails every member when the model returns the wrong number of V1 predictions', async () => {
    const gate = new Gate();
    gate.auto = true;
    gate.fn = () => ({ predictions: [1] });
    const b = make(gate, { maxBatchSize: 2 });
    const settled = await Promise.allSettled([
      b.submit({ instances: [1] }, ctx()),
      b.submit({ instances: [2] }, ctx()),
    ]);
    for (const s of settled) {
      expect((s as PromiseRejectedResult).reason.message).toMatch(/returned 1 predictions for a batch of 2 rows/);
    }
  });
});

describe('Batcher: scheduling', () => {
  it('dispatches at once at the largest preferred size, and cuts preferred sizes from a larger queue', async () => {
    const gate = new Gate();
    const b = make(gate, { maxBatchSize: 8, preferredBatchSizes: [4, 2], maxLatencyMs: 60_000, maxInflightBatches: 1 });
    const first = [1, 2, 3, 4].map((s) => b.submit(xRequest(1, 1, s), ctx()));
    await settle();
    expect(gate.batches.map(rowsOf)).toEqual([4]); // reached the largest preferred size: no latency wait
    const rest = [5, 6, 7, 8, 9, 10, 11].map((s) => b.submit(xRequest(1, 1, s), ctx()));
    const restSettled = Promise.allSettled(rest);
    gate.release();
    await Promise.all(first);
    await until(() => gate.batches.length === 2, 'second batch');
    expect(rowsOf(gate.batches[1]!)).toBe(4); // 7 queued → the largest preferred size that fits
    gate.release();
    await settle();
    expect(gate.batches).toHaveLength(2); // 3 rows left, below every preferred size: wait for the timer
    expect(b.queuedRows).toBe(3);
    await b.close();
    const outcome = (await restSettled).map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason.constructor.name));
    expect(outcome).toEqual(['ok', 'ok', 'ok', 'ok', 'ServerNotReady', 'ServerNotReady', 'ServerNotReady']);
  });

  it('on the latency timer takes the largest preferred size the queue reaches, then the remainder', async () => {
    const gate = new Gate();
    gate.auto = true;
    const b = make(gate, { maxBatchSize: 8, preferredBatchSizes: [2, 4], maxLatencyMs: 1, maxInflightBatches: 1 });
    const res = await Promise.all([1, 2, 3].map((s) => b.submit(xRequest(1, 1, s), ctx())));
    expect(res).toHaveLength(3);
    expect(gate.batches.map(rowsOf)).toEqual([2, 1]);
  });

  it('runs at most maxInflightBatches batches at once (default 2) and batches what arrives meanwhile', async () => {
    for (const [limit, expected] of [
      [undefined, 2],
      [3, 3],
    ] as const) {
      const gate = new Gate();
      const b = new Batcher('m', gate.run, {
        maxBatchSize: 16,
        maxLatencyMs: 0,
        ...(limit === undefined ? {} : { maxInflightBatches: limit }),
      });
      const all: Promise<Result>[] = [];
      for (let i = 0; i < expected; i++) {
        all.push(b.submit(xRequest(1, 1, i), ctx()));
        await until(() => gate.pending === i + 1, `batch ${i + 1} running`);
      }
      for (let i = 0; i < 6; i++) all.push(b.submit(xRequest(1, 1, 10 + i), ctx()));
      await settle();
      expect(b.inflightBatches).toBe(expected);
      expect(gate.pending).toBe(expected);
      expect(b.queuedRows).toBe(6);
      gate.release();
      await until(() => gate.batches.length === expected + 1, 'the batch of queued requests');
      expect(rowsOf(gate.batches.at(-1)!)).toBe(6);
      gate.release();
      const res = (await Promise.all(all)) as InferResponse[];
      expect(plain(res.at(-1)!.outputs[0]!.data)).toEqual([2 * 1500 + 1]);
    }
  });

  it('serves the queue whose oldest request is oldest first when a slot frees', async () => {
    const gate = new Gate();
    const b = make(gate, { maxBatchSize: 8, maxLatencyMs: 0 });
    const { running } = await occupy(b, gate);
    const wide = b.submit(xRequest(1, 3, 1), ctx());
    const narrow = b.submit(xRequest(1, 2, 2), ctx());
    const wide2 = b.submit(xRequest(1, 3, 3), ctx());
    gate.release();
    await running;
    await until(() => gate.batches.length === 2, 'second batch');
    expect((gate.batches[1] as InferRequest).inputs[0]!.shape).toEqual([2, 3]);
    gate.release();
    await until(() => gate.batches.length === 3, 'third batch');
    expect((gate.batches[2] as InferRequest).inputs[0]!.shape).toEqual([1, 2]);
    gate.release();
    await Promise.all([wide, narrow, wide2]);
  });

  it('rejects invalid options with a clear message', () => {
    const gate = new Gate();
    expect(() => make(gate, { maxBatchSize: 2.5 })).toThrow(/maxBatchSize must be an integer/);
    expect(() => make(gate, { maxLatencyMs: -1 })).toThrow(/maxLatencyMs must be ≥ 0/);
    expect(() => make(gate, { preferredBatchSizes: [16] })).toThrow(/between 1 and maxBatchSize 8, got 16/);
    expect(() => make(gate, { maxInflightBatches: 0 })).toThrow(/maxInflightBatches/);
  });
});

describe('Batcher: back-pressure, failures and cancellation', () => {
  it('admits a request larger than maxQueueSize when nothing waits, and refuses work beyond the limit', async () => {
    const gate = new Gate();
    const registry = new Registry();
    const b = make(gate, { maxBatchSize: 4, maxQueueSize: 3, maxLatencyMs: 0 }, registry);
    const { running } = await occupy(b, gate);
    const big = b.submit(xRequest(5, 1, 1), ctx()); // queue empty: admitted even though 5 > 3
    const refused = b.submit(xRequest(1, 1, 2), ctx());
    await expect(refused).rejects.toBeInstanceOf(Overloaded);
    await expect(refused).rejects.toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
    expect(b.queuedRows).toBe(5);
    gate.release();
    await running;
    await until(() => gate.pending === 1, 'the big batch');
    gate.release();
    expect(((await big) as InferResponse).outputs[0]!.shape).toEqual([5, 1]);
    expect(await registry.getSingleMetricAsString('servekit_batch_rejected_total')).toMatch(/reason="queue_full"\} 1/);
  });

  it('fails every queued request after timeoutMs with DeadlineExceeded and keeps serving', async () => {
    const gate = new Gate();
    const registry = new Registry();
    const b = make(gate, { maxBatchSize: 4, maxLatencyMs: 0, timeoutMs: 10 }, registry);
    const { running } = await occupy(b, gate);
    const stuck = await Promise.allSettled([b.submit(xRequest(1, 1, 1), ctx()), b.submit(xRequest(1, 2, 2), ctx())]);
    for (const s of stuck) {
      const err = (s as PromiseRejectedResult).reason as Error;
      expect(err).toBeInstanceOf(DeadlineExceeded);
      expect(err.message).toMatch(/waited \d+ ms in the batch queue .*timeout 10 ms/);
    }
    expect(b.queuedRows).toBe(0);
    expect(await registry.getSingleMetricAsString('servekit_batch_rejected_total')).toMatch(/reason="timeout"\} 2/);
    gate.release();
    await running;
    gate.auto = true;
    expect(((await b.submit(xRequest(1, 1, 3), ctx())) as InferResponse).outputs).toHaveLength(2);
    expect(gate.batches).toHaveLength(2); // the timed-out requests never reached the model
  });

  it('fails every member with the model error, even a synchronous throw, and serves the next batch', async () => {
    const gate = new Gate();
    gate.auto = true;
    gate.failWith = new InferenceError('model exploded');
    const b = make(gate, { maxBatchSize: 3 });
    const settled = await Promise.allSettled([1, 2, 3].map((s) => b.submit(xRequest(1, 1, s), ctx())));
    expect(gate.batches).toHaveLength(1);
    for (const s of settled) expect((s as PromiseRejectedResult).reason).toBe(gate.failWith);
    const sync = new Batcher(
      'm',
      () => {
        throw new TypeError('bad tensor');
      },
      { maxBatchSize: 2, maxLatencyMs: 60_000, dispatchWhenIdle: false },
    );
    const both = await Promise.allSettled([
      sync.submit(xRequest(1, 1, 1), ctx()),
      sync.submit(xRequest(1, 1, 2), ctx()),
    ]);
    for (const s of both) expect((s as PromiseRejectedResult).reason.message).toBe('bad tensor');
    gate.failWith = undefined;
    const ok = await Promise.all([1, 2, 3].map((s) => b.submit(xRequest(1, 1, s), ctx())));
    expect(ok).toHaveLength(3);
  });

  it('removes a member cancelled while queued and runs the others in order', async () => {
    const gate = new Gate();
    const registry = new Registry();
    const b = make(gate, { maxBatchSize: 8, maxLatencyMs: 0 }, registry);
    const { running } = await occupy(b, gate);
    const ac = new AbortController();
    const first = b.submit(xRequest(1, 1, 1), ctx());
    const gone = b.submit(xRequest(2, 1, 2), ctx(ac.signal));
    const last = b.submit(xRequest(1, 1, 3), ctx());
    expect(b.queuedRows).toBe(4);
    ac.abort();
    await expect(gone).rejects.toBeInstanceOf(RequestCancelled);
    expect(b.queuedRows).toBe(2);
    gate.release();
    await running;
    await until(() => gate.pending === 1, 'batch without the cancelled member');
    expect(plain((gate.batches[1] as InferRequest).inputs[0]!.data)).toEqual([100, 300]);
    gate.release();
    expect(plain(((await first) as InferResponse).outputs[0]!.data)).toEqual([201]);
    expect(plain(((await last) as InferResponse).outputs[0]!.data)).toEqual([601]);
    expect(await registry.getSingleMetricAsString('servekit_batch_rejected_total')).toMatch(/reason="cancelled"\} 1/);
    // An already aborted signal never enters the queue.
    await expect(b.submit(xRequest(1, 1, 4), ctx(AbortSignal.abort()))).rejects.toBeInstanceOf(RequestCancelled);
  });

  it('keeps a dispatched batch running when some members go away; aborts its signal only when all have', async () => {
    const gate = new Gate();
    const b = make(gate, { maxBatchSize: 2, maxInflightBatches: 2 });
    const [a1, a2, a3, a4] = [0, 1, 2, 3].map(() => new AbortController());
    const partly = [b.submit(xRequest(1, 1, 1), ctx(a1!.signal)), b.submit(xRequest(1, 1, 2), ctx(a2!.signal))];
    const wholly = [b.submit(xRequest(1, 1, 3), ctx(a3!.signal)), b.submit(xRequest(1, 1, 4), ctx(a4!.signal))];
    await until(() => gate.pending === 2, 'two batches');
    a1!.abort();
    a3!.abort();
    a4!.abort();
    expect(gate.contexts[0]!.signal.aborted).toBe(false);
    expect(gate.contexts[1]!.signal.aborted).toBe(true);
    gate.release();
    expect(plain(((await partly[1]) as InferResponse).outputs[0]!.data)).toEqual([401]);
    await Promise.all([partly[0], ...wholly]); // settled; the transport has nobody to send them to
  });

  it('rejects queued requests with ServerNotReady on close and waits for running batches', async () => {
    const gate = new Gate();
    const registry = new Registry();
    const b = make(gate, { maxBatchSize: 4, maxLatencyMs: 0 }, registry);
    const { running } = await occupy(b, gate);
    const queued = b.submit(xRequest(1, 1, 1), ctx());
    let closed = false;
    const closing = b.close().then(() => {
      closed = true;
    });
    await expect(queued).rejects.toBeInstanceOf(ServerNotReady);
    await settle();
    expect(closed).toBe(false); // a batch is still running
    gate.release();
    await closing;
    await running;
    await expect(b.submit(xRequest(1, 1, 2), ctx())).rejects.toThrow(/shutting down/);
    expect(await registry.getSingleMetricAsString('servekit_batch_rejected_total')).toMatch(/reason="shutdown"\} 1/);
    await new Batcher('idle', gate.run, { maxBatchSize: 2, maxLatencyMs: 1 }).close(); // nothing running: at once
  });
});

/** A context with the allocation-free `clientGone` poll (as REST and gRPC give) whose signal must never be read. */
function polledCtx(): { ctx: InferContext; leave: () => void; signalReads: () => number } {
  let gone = false;
  let reads = 0;
  const c: InferContext = {
    headers: {},
    protocol: 'v2',
    requestId: 'r',
    get signal(): AbortSignal {
      reads++;
      return new AbortController().signal;
    },
    clientGone: () => gone,
  };
  return {
    ctx: c,
    leave: () => {
      gone = true;
    },
    signalReads: () => reads,
  };
}

describe('Batcher: contexts polled with clientGone', () => {
  it('never reads their signal, and drops a member whose client went away when its batch forms', async () => {
    const gate = new Gate();
    const registry = new Registry();
    const b = make(gate, { maxBatchSize: 8, maxLatencyMs: 0 }, registry);
    const { running } = await occupy(b, gate);
    const [p1, p2, p3] = [polledCtx(), polledCtx(), polledCtx()];
    const first = b.submit(xRequest(1, 1, 1), p1.ctx);
    const gone = b.submit(xRequest(2, 1, 2), p2.ctx);
    const last = b.submit(xRequest(1, 1, 3), p3.ctx);
    p2.leave();
    gate.release();
    await running;
    await expect(gone).rejects.toBeInstanceOf(RequestCancelled);
    await until(() => gate.pending === 1, 'batch without the cancelled member');
    // The gone request never reached the model: the batch holds only the two live rows, in order.
    expect(plain((gate.batches[1] as InferRequest).inputs[0]!.data)).toEqual([100, 300]);
    expect(b.queuedRows).toBe(0);
    gate.release();
    expect(plain(((await first) as InferResponse).outputs[0]!.data)).toEqual([201]);
    expect(plain(((await last) as InferResponse).outputs[0]!.data)).toEqual([601]);
    expect(await registry.getSingleMetricAsString('servekit_batch_rejected_total')).toMatch(/reason="cancelled"\} 1/);
    for (const p of [p1, p2, p3]) expect(p.signalReads()).toBe(0);
    // Already gone at submission: never queued.
    const p4 = polledCtx();
    p4.leave();
    await expect(b.submit(xRequest(1, 1, 4), p4.ctx)).rejects.toBeInstanceOf(RequestCancelled);
    expect(gate.batches).toHaveLength(2);
  });

  it('drops a batch whose members all went away without running the model', async () => {
    const gate = new Gate();
    const b = make(gate, { maxBatchSize: 8, maxLatencyMs: 0 });
    const { running } = await occupy(b, gate);
    const members = [polledCtx(), polledCtx()];
    const submitted = members.map((p, i) => b.submit(xRequest(1, 1, i), p.ctx));
    for (const p of members) p.leave();
    gate.release();
    await running;
    for (const s of submitted) await expect(s).rejects.toBeInstanceOf(RequestCancelled);
    expect(gate.batches).toHaveLength(1);
    expect(b.queuedRows).toBe(0);
  });

  it('gives the room of gone requests back when the queue is full', async () => {
    const gate = new Gate();
    const registry = new Registry();
    const b = make(gate, { maxBatchSize: 4, maxQueueSize: 2, maxLatencyMs: 0 }, registry);
    const { running } = await occupy(b, gate);
    const p = polledCtx();
    const gone = b.submit(xRequest(2, 1, 1), p.ctx);
    await expect(b.submit(xRequest(1, 1, 2), ctx())).rejects.toBeInstanceOf(Overloaded);
    p.leave();
    const admitted = b.submit(xRequest(1, 1, 3), ctx());
    await expect(gone).rejects.toBeInstanceOf(RequestCancelled);
    expect(b.queuedRows).toBe(1);
    gate.release();
    await running;
    await until(() => gate.pending === 1, 'the admitted request');
    gate.release();
    expect(plain(((await admitted) as InferResponse).outputs[0]!.data)).toEqual([601]);
    const rejected = await registry.getSingleMetricAsString('servekit_batch_rejected_total');
    expect(rejected).toMatch(/reason="queue_full"\} 1/);
    expect(rejected).toMatch(/reason="cancelled"\} 1/);
  });

  it('drops gone requests at the timeout sweep as cancelled, not timed out', async () => {
    const gate = new Gate();
    const registry = new Registry();
    const b = make(gate, { maxBatchSize: 4, maxLatencyMs: 0, timeoutMs: 10 }, registry);
    const { running } = await occupy(b, gate);
    const p = polledCtx();
    const gone = b.submit(xRequest(1, 1, 1), p.ctx);
    p.leave();
    await expect(gone).rejects.toBeInstanceOf(RequestCancelled);
    expect(b.queuedRows).toBe(0);
    const rejected = await registry.getSingleMetricAsString('servekit_batch_rejected_total');
    expect(rejected).toMatch(/reason="cancelled"\} 1/);
    expect(rejected).not.toMatch(/reason="timeout"/);
    gate.release();
    await running;
    expect(gate.batches).toHaveLength(1);
  });
});
