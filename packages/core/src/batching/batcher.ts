/**
 * Dynamic request batching, per model.
 *
 * Requests are grouped into queues by compatibility key (same input names, datatypes, non-batch dims,
 * requested outputs and parameters; see `batchShape`). A queue becomes *due* when it holds `maxBatchSize`
 * rows (or the largest preferred size), when its oldest request has waited `maxLatencyMs`, or at once when
 * the model is idle (no batch running: waiting would only add latency). Batches are
 * formed only when one of `maxInflightBatches` run slots is free, so under load queues keep filling while
 * the model is busy and the next batch is as large as allowed (adaptive batching). A batch takes whole
 * requests, oldest first, up to `maxBatchSize` rows (on the timer, the largest preferred size that fits when
 * `preferredBatchSizes` is set). A request larger than `maxBatchSize`, or one that cannot batch, runs alone.
 *
 * Back-pressure: beyond `maxQueueSize` queued rows a request fails at once with 503 (Overloaded); a request
 * queued longer than `timeoutMs` fails with DeadlineExceeded; a request whose client goes away while queued
 * is dropped without touching the others. A model error fails every member of that batch.
 * Timers: one latency timer per queue and one deadline sweep per batcher, never one per request.
 */
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DeadlineExceeded, Overloaded, RequestCancelled, ServerNotReady } from '../errors.js';
import type { InferContext } from '../model/model.js';
import type { Payload, Result } from '../tensor/infer-types.js';
import { batchShape, mergePayloads, splitResult } from './merge-split.js';

/** Per-model batching options. */
export interface BatchingOptions {
  /** Most rows (dim 0) in one batch. Batching is off when ≤ 1. */
  maxBatchSize: number;
  /** Longest time the oldest queued request waits for a batch to fill, in ms. */
  maxLatencyMs: number;
  /** Triton-style preferred batch sizes: on the timer, the largest one that fits is formed. */
  preferredBatchSizes?: number[];
  /** Most rows waiting across all queues; beyond it requests get 503 at once. Default 1024. */
  maxQueueSize?: number;
  /** Batches of this model running at once. Default 2 (one forms while one runs). */
  maxInflightBatches?: number;
  /** Longest time a request may wait in the queue before 503 DEADLINE_EXCEEDED, in ms. Default 30000. */
  timeoutMs?: number;
  /** Start a batch at once when no batch of the model is running (no idle wait). Default true. */
  dispatchWhenIdle?: boolean;
}

/** The batcher's Prometheus metrics (label `model_name`). */
export interface BatchMetrics {
  /** Rows per executed batch. */
  batchSize: Histogram<'model_name'>;
  /** Time each request waited in the queue, seconds. */
  queueSeconds: Histogram<'model_name'>;
  /** Rows waiting now. */
  queueDepth: Gauge<'model_name'>;
  /** Requests refused (queue full or deadline). */
  rejected: Counter<'model_name' | 'reason'>;
}

/** Create the batch metrics in `registry`. */
export function batchMetrics(registry: Registry): BatchMetrics {
  return {
    batchSize: new Histogram({
      name: 'servekit_batch_size',
      help: 'rows per executed batch',
      labelNames: ['model_name'] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
    queueSeconds: new Histogram({
      name: 'servekit_batch_queue_seconds',
      help: 'time requests wait in the batch queue',
      labelNames: ['model_name'] as const,
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'servekit_batch_queue_depth',
      help: 'rows waiting in batch queues',
      labelNames: ['model_name'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'servekit_batch_rejected_total',
      help: 'requests refused by the batcher',
      labelNames: ['model_name', 'reason'] as const,
      registers: [registry],
    }),
  };
}

interface Item {
  payload: Payload;
  ctx: InferContext;
  rows: number;
  enqueuedAt: number;
  resolve: (r: Result) => void;
  reject: (e: unknown) => void;
  queue: Queue;
  onAbort?: () => void;
}

interface Queue {
  key: string;
  items: Item[];
  rows: number;
  due: boolean;
  timer?: NodeJS.Timeout;
}

/** Merges compatible concurrent requests of one model into batches; see the module comment. */
export class Batcher {
  private readonly queues = new Map<string, Queue>();
  private readonly maxQueueSize: number;
  private readonly maxInflight: number;
  private readonly timeoutMs: number;
  private readonly preferred: number[];
  private inflight = 0;
  private queued = 0;
  private closed = false;
  private sweepTimer?: NodeJS.Timeout;
  private readonly idle = new Set<() => void>();

  constructor(
    readonly modelName: string,
    private readonly run: (payload: Payload, ctx: InferContext) => Promise<Result>,
    private readonly options: BatchingOptions,
    private readonly metrics?: BatchMetrics,
  ) {
    this.maxQueueSize = options.maxQueueSize ?? 1024;
    this.maxInflight = Math.max(1, options.maxInflightBatches ?? 2);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.preferred = [...(options.preferredBatchSizes ?? [])]
      .filter((n) => n > 0 && n <= options.maxBatchSize)
      .sort((a, b) => a - b);
  }

  /** Rows waiting in the queues. */
  get queuedRows(): number {
    return this.queued;
  }

  /** Batches running now. */
  get inflightBatches(): number {
    return this.inflight;
  }

  /** Queue a (preprocessed) payload; resolves with this request's own share of the batch result. */
  submit(payload: Payload, ctx: InferContext): Promise<Result> {
    if (this.closed) return Promise.reject(new ServerNotReady(`Model ${this.modelName} is shutting down.`));
    if (ctx.signal.aborted) return Promise.reject(new RequestCancelled());
    const shape = batchShape(payload);
    const rows = shape?.rows ?? 1;
    if (this.queued + rows > this.maxQueueSize) {
      this.metrics?.rejected.inc({ model_name: this.modelName, reason: 'queue_full' });
      return Promise.reject(
        new Overloaded(
          `Model ${this.modelName} is overloaded: ${this.queued} rows are queued (limit ${this.maxQueueSize}). Retry later.`,
        ),
      );
    }
    // Requests that cannot batch, or exceed the batch size, get a queue of their own and run alone.
    const key = shape && rows <= this.options.maxBatchSize ? shape.key : `solo\u0000${randomUUID()}`;
    return new Promise<Result>((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) {
        queue = { key, items: [], rows: 0, due: false };
        this.queues.set(key, queue);
      }
      const item: Item = { payload, ctx, rows, enqueuedAt: performance.now(), resolve, reject, queue };
      item.onAbort = () => this.cancel(item);
      ctx.signal.addEventListener('abort', item.onAbort, { once: true });
      queue.items.push(item);
      queue.rows += rows;
      this.queued += rows;
      this.metrics?.queueDepth.set({ model_name: this.modelName }, this.queued);
      // Full queues, lone requests, and any request reaching an idle model start at once: waiting only
      // pays off while the model is busy, and then the batch grows until a run slot frees up.
      const idle = this.inflight === 0 && this.options.dispatchWhenIdle !== false;
      if (key.startsWith('solo\u0000') || queue.rows >= this.fullSize() || idle) queue.due = true;
      else if (!queue.timer) this.armLatencyTimer(queue);
      this.armSweep();
      this.pump();
    });
  }

  /** Stop accepting; queued requests fail with ServerNotReady; resolves when running batches finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queues.values()) {
      clearTimeout(q.timer);
      for (const item of q.items) this.fail(item, new ServerNotReady(`Model ${this.modelName} is shutting down.`));
    }
    this.queues.clear();
    clearTimeout(this.sweepTimer);
    if (this.inflight > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /** Rows at which a queue is dispatched without waiting: the largest preferred size, else maxBatchSize. */
  private fullSize(): number {
    return this.preferred.length > 0 ? this.preferred[this.preferred.length - 1]! : this.options.maxBatchSize;
  }

  private armLatencyTimer(queue: Queue): void {
    const oldest = queue.items[0];
    if (!oldest) return;
    const wait = Math.max(0, oldest.enqueuedAt + this.options.maxLatencyMs - performance.now());
    queue.timer = setTimeout(() => {
      queue.timer = undefined;
      queue.due = true;
      this.pump();
    }, wait);
  }

  /** One timer for the earliest queue deadline (FIFO queues: the oldest head). */
  private armSweep(): void {
    if (this.sweepTimer) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const q of this.queues.values()) if (q.items[0]) oldest = Math.min(oldest, q.items[0].enqueuedAt);
    if (oldest === Number.POSITIVE_INFINITY) return;
    this.sweepTimer = setTimeout(
      () => {
        this.sweepTimer = undefined;
        const now = performance.now();
        for (const q of this.queues.values()) {
          while (q.items[0] && now - q.items[0].enqueuedAt >= this.timeoutMs) {
            const item = q.items[0];
            this.metrics?.rejected.inc({ model_name: this.modelName, reason: 'timeout' });
            this.fail(
              item,
              new DeadlineExceeded(
                `Request to model ${this.modelName} waited ${Math.round(now - item.enqueuedAt)} ms in the batch queue (limit ${this.timeoutMs} ms).`,
              ),
            );
          }
          if (q.items.length === 0) this.dropQueue(q);
        }
        this.armSweep();
      },
      Math.max(0, oldest + this.timeoutMs - performance.now()),
    );
    this.sweepTimer.unref?.();
  }

  /** Take an item out of its queue and settle it with an error. */
  private fail(item: Item, err: Error): void {
    this.remove(item);
    item.reject(err);
  }

  private cancel(item: Item): void {
    if (!item.queue.items.includes(item)) return; // already dispatched: its result is simply dropped
    this.fail(item, new RequestCancelled());
    if (item.queue.items.length === 0) this.dropQueue(item.queue);
  }

  private remove(item: Item): void {
    const q = item.queue;
    const i = q.items.indexOf(item);
    if (i < 0) return;
    q.items.splice(i, 1);
    q.rows -= item.rows;
    this.queued -= item.rows;
    this.metrics?.queueDepth.set({ model_name: this.modelName }, this.queued);
    if (item.onAbort) item.ctx.signal.removeEventListener('abort', item.onAbort);
  }

  private dropQueue(q: Queue): void {
    clearTimeout(q.timer);
    this.queues.delete(q.key);
  }

  /** Start due batches while run slots are free, oldest queue first. */
  private pump(): void {
    while (this.inflight < this.maxInflight) {
      let next: Queue | undefined;
      const idle = this.inflight === 0 && this.options.dispatchWhenIdle !== false;
      for (const q of this.queues.values()) {
        if ((!q.due && !idle) || q.items.length === 0) continue;
        if (!next || q.items[0]!.enqueuedAt < next.items[0]!.enqueuedAt) next = q;
      }
      if (!next) return;
      this.dispatch(next, this.take(next));
    }
  }

  /** Whole requests from the head of the queue, up to the batch size (a preferred size when one fits). */
  private take(q: Queue): Item[] {
    let limit = this.options.maxBatchSize;
    if (this.preferred.length > 0) {
      const fitting = this.preferred.filter((p) => p <= q.rows);
      if (fitting.length > 0) limit = fitting[fitting.length - 1]!;
    }
    const batch: Item[] = [];
    let rows = 0;
    while (q.items[0] && (batch.length === 0 || rows + q.items[0].rows <= limit)) {
      const item = q.items[0];
      rows += item.rows;
      this.remove(item);
      batch.push(item);
    }
    clearTimeout(q.timer);
    q.timer = undefined;
    q.due = q.rows >= this.fullSize();
    if (q.items.length === 0) this.dropQueue(q);
    else if (!q.due) this.armLatencyTimer(q);
    return batch;
  }

  private dispatch(_q: Queue, batch: Item[]): void {
    this.inflight++;
    const now = performance.now();
    const rows = batch.map((i) => i.rows);
    const total = rows.reduce((a, b) => a + b, 0);
    this.metrics?.batchSize.observe({ model_name: this.modelName }, total);
    for (const item of batch)
      this.metrics?.queueSeconds.observe({ model_name: this.modelName }, (now - item.enqueuedAt) / 1e3);
    const lead = batch[0]!;
    // The batch runs even if some members went away; it is cancelled only when all of them have.
    const ac = new AbortController();
    let aborted = 0;
    for (const item of batch) {
      item.ctx.signal.addEventListener(
        'abort',
        () => {
          if (++aborted === batch.length) ac.abort();
        },
        { once: true },
      );
    }
    const ctx: InferContext = { ...lead.ctx, signal: ac.signal };
    const payloads = batch.map((i) => i.payload);
    Promise.resolve()
      .then(() => this.run(mergePayloads(payloads), ctx))
      .then((result) => {
        const parts = splitResult(result, payloads, rows, this.modelName);
        for (const [i, item] of batch.entries()) item.resolve(parts[i]!);
      })
      .catch((err: unknown) => {
        for (const item of batch) item.reject(err);
      })
      .finally(() => {
        this.inflight--;
        if (this.inflight === 0) {
          for (const fn of this.idle) fn();
          this.idle.clear();
        }
        if (!this.closed) this.pump();
      });
  }
}
