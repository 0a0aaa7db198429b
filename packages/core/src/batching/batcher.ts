/**
 * Dynamic request batching, one Batcher per model (version).
 *
 * Algorithm
 * - Queues: each submitted (already preprocessed) payload gets a compatibility key (`batchShape`: input
 *   names, datatypes, non-batch dims and parameters, requested outputs, request parameters; V1: every field
 *   but `instances`). Requests with equal keys share a FIFO queue; a request that cannot batch (V1 columnar
 *   `inputs`, scalars, ragged dim 0) or has more rows than `maxBatchSize` gets a queue of its own and runs alone.
 * - When a queue is due: it holds `maxBatchSize` rows (or the largest preferred size), its oldest request
 *   has waited `maxLatencyMs` (one timer per queue, armed for the oldest request), or the model is idle (no
 *   batch running: waiting would only add latency, so `dispatchWhenIdle`, on by default, starts it at once).
 * - Forming batches: only when one of `maxInflightBatches` run slots is free, the due queue whose oldest
 *   request is oldest is cut. So while the model is busy, queues keep filling and the next batch is as large
 *   as allowed (adaptive batching). A batch takes whole requests, oldest first, up to `maxBatchSize` rows;
 *   with `preferredBatchSizes` (Triton-style) it takes up to the largest preferred size that the queued rows
 *   reach, else everything up to `maxBatchSize`.
 * - Running: inputs are concatenated along dim 0 with one copy (`mergePayloads`), the model runs once, and
 *   every output is split back by each request's row count as zero-copy views (`splitResult`); each caller
 *   gets its own id. A batch of one request gets the model's result untouched, exactly as unbatched. The
 *   run slot frees (and the next batch starts) before the members' answers are resolved, so the model
 *   computes the next batch while the event loop encodes and writes the answers of the last one.
 * - Failure: a model error (or an output that cannot be split) fails every member with that error.
 * - Back-pressure: a request that would take the queued rows past `maxQueueSize` fails at once with
 *   Overloaded (503 + Retry-After); a request queued longer than `timeoutMs` fails with DeadlineExceeded
 *   (one sweep timer per batcher, never one per request); a request whose client goes away while queued is
 *   removed with RequestCancelled without touching the others and never runs: at once when its signal aborts, or,
 *   for a context with the allocation-free `ctx.clientGone` poll (REST, gRPC: no signal nor listener is made per
 *   request), when its batch is formed, when the queue is full, or at the timeout sweep; a member whose client deadline
 *   (`ctx.deadline`) passed before its batch runs is dropped with RequestTimeoutExpired. Once dispatched, a
 *   batch runs to the end; its signal aborts only when every member's signal has (`BatchSignal`: made and
 *   subscribed to the members only when the model reads it, so a model that never does costs nothing).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { deadlinePassed, RequestTimeoutExpired } from '../admission/deadline.js';
import { DeadlineExceeded, Overloaded, RequestCancelled, ServerNotReady } from '../errors.js';
import type { InferContext } from '../model/model.js';
import { isInferRequest, isInferResponse, type Payload, type Result } from '../protocols/infer-types.js';
import { startBatchSpan, startQueueSpan } from '../tracing/batch-spans.js';
import type { TraceSpan } from '../tracing/span.js';
import { BatchSignal, batchContext } from './batch-signal.js';
import { batchShape, mergePayloads, splitResult } from './merge-split.js';

/** Per-model batching options. */
export interface BatchingOptions {
  /** Most rows (dim 0, V1: instances) in one batch. Batching is off when ≤ 1 (the dataplane skips the batcher). */
  maxBatchSize: number;
  /** Longest time the oldest queued request waits for its batch to fill, in ms (0: no wait). */
  maxLatencyMs: number;
  /** Triton-style preferred batch sizes (≤ maxBatchSize): batches are cut at the largest one the queue reaches. */
  preferredBatchSizes?: number[];
  /** Most rows waiting across all queues; a request beyond it gets 503 at once. Default 1024. */
  maxQueueSize?: number;
  /** Batches of this model running at once. Default 2 (the next batch is cut while one still runs). */
  maxInflightBatches?: number;
  /** Longest time a request may wait in the queue before DeadlineExceeded, in ms; 0 disables. Default 30000. */
  timeoutMs?: number;
  /** Start a batch at once when no batch of the model is running (no latency wait when idle). Default true. */
  dispatchWhenIdle?: boolean;
}

/** The batcher's Prometheus metrics (label `model_name`). */
export interface BatchMetrics {
  /** Rows per executed batch. */
  batchSize: Histogram<'model_name'>;
  /** Time each request waited in the queue, seconds. */
  queueSeconds: Histogram<'model_name'>;
  /** Rows waiting now: read from `depthSources` when scraped (no gauge update per request). */
  queueDepth: Gauge<'model_name'>;
  /** The live batchers whose queued rows `queueDepth` reports (summed per model name). */
  depthSources: Set<QueueDepthSource>;
  /** Requests that left the queue without running: `queue_full`, `timeout`, `deadline`, `cancelled`, `shutdown`. */
  rejected: Counter<'model_name' | 'reason'>;
}

/** What `BatchMetrics.queueDepth` reads from a batcher when scraped. */
export interface QueueDepthSource {
  /** The model's name (the `model_name` label). */
  readonly modelName: string;
  /** Rows waiting now. */
  readonly queuedRows: number;
}

/** Create the batch metrics (`servekit_batch_*`) in `registry`; call once per registry. */
export function batchMetrics(registry: Registry): BatchMetrics {
  const depthSources = new Set<QueueDepthSource>();
  return {
    depthSources,
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
      collect() {
        const rows = new Map<string, number>();
        for (const s of depthSources) rows.set(s.modelName, (rows.get(s.modelName) ?? 0) + s.queuedRows);
        for (const [model_name, n] of rows) this.set({ model_name }, n);
      },
    }),
    rejected: new Counter({
      name: 'servekit_batch_rejected_total',
      help: 'requests that left the batch queue without running (queue_full, timeout, deadline, cancelled, shutdown)',
      labelNames: ['model_name', 'reason'] as const,
      registers: [registry],
    }),
  };
}

/** Longest delay Node's timers accept; longer ones fire after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Item {
  payload: Payload;
  ctx: InferContext;
  rows: number;
  enqueuedAt: number;
  resolve: (r: Result) => void;
  reject: (e: unknown) => void;
  queue: Queue;
  /** Subscribed to the context's signal only when the context has no `clientGone` poll. */
  onAbort?: () => void;
  /** True while the item sits in its queue. */
  queued: boolean;
  /** With tracing on, the request's queue-wait span (ended when its batch starts or it fails). */
  span?: TraceSpan;
}

interface Queue {
  key: string;
  items: Item[];
  rows: number;
  /** Runs alone: one request that cannot batch or exceeds maxBatchSize. */
  solo: boolean;
  due: boolean;
  timer?: NodeJS.Timeout;
}

/** Throws a RangeError naming the model and the bad option; call at startup so bad flags fail early. */
export function validateBatchingOptions(model: string, o: BatchingOptions): void {
  const bad = (what: string) => {
    throw new RangeError(`Batching options of model ${model}: ${what}.`);
  };
  if (!Number.isInteger(o.maxBatchSize) || o.maxBatchSize < 1)
    bad(`maxBatchSize must be an integer ≥ 1, got ${o.maxBatchSize}`);
  if (!(o.maxLatencyMs >= 0)) bad(`maxLatencyMs must be ≥ 0, got ${o.maxLatencyMs}`);
  if (o.maxQueueSize !== undefined && !(o.maxQueueSize >= 1)) bad(`maxQueueSize must be ≥ 1, got ${o.maxQueueSize}`);
  if (o.maxInflightBatches !== undefined && !(Number.isInteger(o.maxInflightBatches) && o.maxInflightBatches >= 1))
    bad(`maxInflightBatches must be an integer ≥ 1, got ${o.maxInflightBatches}`);
  if (o.timeoutMs !== undefined && !(o.timeoutMs >= 0)) bad(`timeoutMs must be ≥ 0, got ${o.timeoutMs}`);
  for (const p of o.preferredBatchSizes ?? []) {
    if (!Number.isInteger(p) || p < 1 || p > o.maxBatchSize)
      bad(`preferredBatchSizes must be integers between 1 and maxBatchSize ${o.maxBatchSize}, got ${p}`);
  }
}

/** True once the request's client has gone away: polled when the context can, else its signal. */
function clientGone(ctx: InferContext): boolean {
  return ctx.clientGone ? ctx.clientGone() : ctx.signal.aborted;
}

/** `result` carrying the V2 request's id (a shallow copy when the model left it out). */
function withOwnId(result: Result, payload: Payload): Result {
  if (!isInferRequest(payload) || payload.id === undefined || !isInferResponse(result) || result.id === payload.id) {
    return result;
  }
  return { ...result, id: payload.id };
}

/** Merges compatible concurrent requests of one model into batches; see the module comment. */
export class Batcher {
  private readonly queues = new Map<string, Queue>();
  private readonly maxBatchSize: number;
  private readonly maxLatencyMs: number;
  private readonly maxQueueSize: number;
  private readonly maxInflight: number;
  private readonly timeoutMs: number;
  private readonly idleDispatch: boolean;
  /** Preferred sizes, ascending. */
  private readonly preferred: number[];
  private readonly labels: { model_name: string };
  private inflight = 0;
  private queued = 0;
  private soloCount = 0;
  private closed = false;
  private sweepTimer?: NodeJS.Timeout;
  private readonly drained = new Set<() => void>();

  /** `run` executes one (merged) payload on the model; it is called at most `maxInflightBatches` times at once. */
  constructor(
    readonly modelName: string,
    private readonly run: (payload: Payload, ctx: InferContext) => Promise<Result>,
    options: BatchingOptions,
    private readonly metrics?: BatchMetrics,
    /** Called for each request as its batch starts, with the time it waited in the queue (ms). */
    private readonly onDequeued?: (waitedMs: number) => void,
  ) {
    validateBatchingOptions(modelName, options);
    this.maxBatchSize = options.maxBatchSize;
    this.maxLatencyMs = Math.min(options.maxLatencyMs, MAX_TIMER_MS);
    this.maxQueueSize = options.maxQueueSize ?? 1024;
    this.maxInflight = options.maxInflightBatches ?? 2;
    const timeout = options.timeoutMs ?? 30_000;
    this.timeoutMs = timeout === 0 ? Number.POSITIVE_INFINITY : timeout;
    this.idleDispatch = options.dispatchWhenIdle !== false;
    this.preferred = [...new Set(options.preferredBatchSizes ?? [])].sort((a, b) => a - b);
    this.labels = { model_name: modelName };
    metrics?.depthSources.add(this);
  }

  /** Rows waiting in the queues. */
  get queuedRows(): number {
    return this.queued;
  }

  /** Batches running now. */
  get inflightBatches(): number {
    return this.inflight;
  }

  /**
   * Queue a preprocessed payload; resolves with this request's own share of the batch result (its rows, its
   * id) or rejects with Overloaded, DeadlineExceeded, RequestCancelled, ServerNotReady or the model's error.
   */
  submit(payload: Payload, ctx: InferContext): Promise<Result> {
    if (this.closed) return Promise.reject(new ServerNotReady(`Model ${this.modelName} is shutting down.`));
    if (clientGone(ctx)) return Promise.reject(new RequestCancelled());
    const shape = batchShape(payload);
    const rows = shape?.rows ?? 1;
    // A request larger than the whole queue is still admitted when nothing waits, so it can ever run. Requests whose
    // client has gone (not yet noticed: polled contexts) give their room back first.
    if (this.overflows(rows) && (this.dropGone() === 0 || this.overflows(rows))) {
      this.metrics?.rejected.inc({ ...this.labels, reason: 'queue_full' });
      return Promise.reject(
        new Overloaded(
          `Model ${this.modelName} is overloaded: ${this.queued} rows are queued (limit ${this.maxQueueSize}) ` +
            `for batching (max_queue_size) and this request adds ${rows}. Retry later.`,
        ),
      );
    }
    const solo = shape === undefined || rows > this.maxBatchSize;
    const key = solo ? `solo\u0000${this.soloCount++}` : shape.key;
    return new Promise<Result>((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) {
        queue = { key, items: [], rows: 0, solo, due: false };
        this.queues.set(key, queue);
      }
      const item: Item = {
        payload,
        ctx,
        rows,
        enqueuedAt: performance.now(),
        resolve,
        reject,
        queue,
        queued: true,
        span: ctx.span && startQueueSpan(ctx.span, this.modelName, rows),
      };
      // A context that can be polled is checked when its batch forms: no signal nor listener per request.
      if (!ctx.clientGone) {
        item.onAbort = () => this.cancel(item);
        ctx.signal.addEventListener('abort', item.onAbort, { once: true });
      }
      queue.items.push(item);
      queue.rows += rows;
      this.queued += rows;
      if (queue.solo || queue.rows >= this.fullSize()) queue.due = true;
      this.pump();
      // Still waiting (model busy or batch not full): make sure the oldest request's latency budget is timed.
      if (item.queued) {
        if (!queue.due && !queue.timer) this.armLatencyTimer(queue);
        this.armSweep();
      }
    });
  }

  /** True when `rows` more would take the queued rows past maxQueueSize (an empty queue admits anything). */
  private overflows(rows: number): boolean {
    return this.queued > 0 && this.queued + rows > this.maxQueueSize;
  }

  /** Stop accepting; queued requests fail with ServerNotReady; resolves when running batches have finished. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of [...this.queues.values()]) {
      for (const item of [...q.items]) {
        this.metrics?.rejected.inc({ ...this.labels, reason: 'shutdown' });
        this.fail(item, new ServerNotReady(`Model ${this.modelName} is shutting down.`));
      }
      this.dropQueue(q);
    }
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    // Closed: no longer reported (a batcher of a reloaded model with the same name, if any, reports its own rows).
    if (this.metrics?.depthSources.delete(this)) this.metrics.queueDepth.set(this.labels, 0);
    if (this.inflight > 0) await new Promise<void>((resolve) => this.drained.add(resolve));
  }

  /** Rows at which a queue is dispatched without waiting: the largest preferred size, else maxBatchSize. */
  private fullSize(): number {
    return this.preferred.length > 0 ? this.preferred[this.preferred.length - 1]! : this.maxBatchSize;
  }

  /** One timer per queue, for its oldest request's latency budget. */
  private armLatencyTimer(queue: Queue): void {
    const oldest = queue.items[0];
    if (!oldest) return;
    const wait = Math.max(0, oldest.enqueuedAt + this.maxLatencyMs - performance.now());
    queue.timer = setTimeout(() => {
      queue.timer = undefined;
      queue.due = true;
      this.pump();
    }, wait);
  }

  /** One timer per batcher, for the earliest queue deadline (queues are FIFO: their heads are oldest). */
  private armSweep(): void {
    if (this.sweepTimer || this.timeoutMs === Number.POSITIVE_INFINITY) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const q of this.queues.values()) if (q.items[0]) oldest = Math.min(oldest, q.items[0].enqueuedAt);
    if (oldest === Number.POSITIVE_INFINITY) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, oldest + this.timeoutMs - performance.now()));
    this.sweepTimer = setTimeout(() => this.sweep(), wait);
    this.sweepTimer.unref();
  }

  /** Fail every request queued longer than timeoutMs, then re-arm for the next deadline. */
  private sweep(): void {
    this.sweepTimer = undefined;
    this.dropGone();
    const now = performance.now();
    for (const q of [...this.queues.values()]) {
      while (q.items[0] && now - q.items[0].enqueuedAt >= this.timeoutMs) {
        const item = q.items[0];
        this.metrics?.rejected.inc({ ...this.labels, reason: 'timeout' });
        this.fail(
          item,
          new DeadlineExceeded(
            `Request to model ${this.modelName} waited ${Math.round(now - item.enqueuedAt)} ms in the batch queue ` +
              `without reaching the model (timeout ${this.timeoutMs} ms); the model is busy. Retry later.`,
          ),
        );
      }
      if (q.items.length === 0) this.dropQueue(q);
    }
    this.armSweep();
  }

  /** Take a queued item out of its queue and reject it. */
  private fail(item: Item, err: Error): void {
    item.span?.fail(err);
    item.span?.end();
    this.unqueue(item);
    item.reject(err);
  }

  /** The client went away: drop the item if still queued; once dispatched, its result is simply dropped. */
  private cancel(item: Item): void {
    if (!item.queued) return;
    this.failCancelled(item);
    if (item.queue.items.length === 0) this.dropQueue(item.queue);
  }

  /** Count and fail an item whose client has gone (taken out of its queue by `fail` if still in it). */
  private failCancelled(item: Item): void {
    this.metrics?.rejected.inc({ ...this.labels, reason: 'cancelled' });
    this.fail(item, new RequestCancelled());
  }

  /** Cancel every queued request whose client has gone (polled contexts); returns how many. */
  private dropGone(): number {
    let dropped = 0;
    for (const q of [...this.queues.values()]) {
      for (const item of q.items.filter((i) => i.ctx.clientGone?.() === true)) {
        this.cancel(item);
        dropped++;
      }
    }
    return dropped;
  }

  private unqueue(item: Item): void {
    if (!item.queued) return;
    const q = item.queue;
    const i = q.items.indexOf(item);
    if (i >= 0) q.items.splice(i, 1);
    this.leaveQueue(item);
  }

  /** Bookkeeping when an item leaves its queue (already spliced out). */
  private leaveQueue(item: Item): void {
    item.queued = false;
    item.queue.rows -= item.rows;
    this.queued -= item.rows;
    if (item.onAbort) item.ctx.signal.removeEventListener('abort', item.onAbort);
  }

  private dropQueue(q: Queue): void {
    clearTimeout(q.timer);
    q.timer = undefined;
    if (this.queues.get(q.key) === q) this.queues.delete(q.key);
  }

  /**
   * Start due batches while run slots are free, the queue with the oldest request first. When a slot has
   * just freed (`slotFreed`), a queue whose latency budget ran out counts as due even if its timer has not
   * fired yet, so it is not overtaken by a younger due queue.
   */
  private pump(slotFreed = false): void {
    while (this.inflight < this.maxInflight && !this.closed) {
      const idle = this.inflight === 0 && this.idleDispatch;
      const expired = slotFreed ? performance.now() - this.maxLatencyMs : Number.NEGATIVE_INFINITY;
      let next: Queue | undefined;
      for (const q of this.queues.values()) {
        const head = q.items[0];
        if (!head || !(q.due || idle || head.enqueuedAt <= expired)) continue;
        if (!next || head.enqueuedAt < next.items[0]!.enqueuedAt) next = q;
      }
      if (!next) return;
      const batch = this.dropExpired(this.take(next));
      if (batch.length > 0) this.dispatch(batch);
    }
  }

  /**
   * Whole requests from the head of the queue, up to the batch size (a preferred size when the queue reaches one).
   * Requests whose client has gone (polled contexts) are taken out on the way and cancelled, never run.
   */
  private take(q: Queue): Item[] {
    let limit = this.maxBatchSize;
    for (let i = this.preferred.length - 1; i >= 0; i--) {
      if (this.preferred[i]! <= q.rows) {
        limit = this.preferred[i]!;
        break;
      }
    }
    const batch: Item[] = [];
    let gone: Item[] | undefined;
    let count = 0;
    let rows = 0;
    while (count < q.items.length) {
      const item = q.items[count]!;
      if (item.ctx.clientGone?.() === true) {
        gone ??= [];
        gone.push(item);
      } else if (batch.length === 0 || rows + item.rows <= limit) {
        batch.push(item);
        rows += item.rows;
      } else break;
      count++;
    }
    q.items.splice(0, count);
    for (const item of batch) this.leaveQueue(item);
    if (gone) {
      for (const item of gone) {
        this.leaveQueue(item);
        this.failCancelled(item);
      }
    }
    clearTimeout(q.timer);
    q.timer = undefined;
    q.due = q.rows >= this.fullSize();
    if (q.items.length === 0) this.dropQueue(q);
    else if (!q.due) this.armLatencyTimer(q);
    return batch;
  }

  /** The members of `batch` whose client deadline has not passed; the others fail with RequestTimeoutExpired. */
  private dropExpired(batch: Item[]): Item[] {
    const now = performance.now();
    if (!batch.some((item) => deadlinePassed(item.ctx, now))) return batch;
    const live: Item[] = [];
    for (const item of batch) {
      if (!deadlinePassed(item.ctx, now)) live.push(item);
      else {
        this.metrics?.rejected.inc({ ...this.labels, reason: 'deadline' });
        item.reject(new RequestTimeoutExpired(this.modelName, 'batch'));
      }
    }
    return live;
  }

  private dispatch(batch: Item[]): void {
    this.inflight++;
    const now = performance.now();
    const rows = batch.map((i) => i.rows);
    let total = 0;
    for (const n of rows) total += n;
    this.metrics?.batchSize.observe(this.labels, total);
    for (const item of batch) {
      this.metrics?.queueSeconds.observe(this.labels, (now - item.enqueuedAt) / 1e3);
      this.onDequeued?.(now - item.enqueuedAt);
    }
    const span = startBatchSpan(batch, this.modelName, total);
    const members = new BatchSignal(batch);
    // The batch's signal is made only if the model reads it (see BatchSignal).
    const ctx = batchContext(batch[0]!.ctx, members, span);
    const payloads = batch.map((i) => i.payload);
    // The run slot frees, and the next batch starts, before the members' answers are encoded and written: the
    // model computes the next batch while this thread writes the responses of this one.
    const settled = () => {
      span?.end();
      members.release();
      this.inflight--;
      if (this.inflight === 0) {
        for (const fn of this.drained) fn();
        this.drained.clear();
      }
      this.pump(true);
    };
    const fail = (err: unknown) => {
      span?.fail(err);
      settled();
      for (const item of batch) item.reject(err);
    };
    Promise.resolve()
      .then(() => this.run(mergePayloads(payloads), ctx))
      .then((result) => {
        let parts: Result[];
        try {
          // Alone: what an unbatched call returns.
          parts =
            batch.length === 1
              ? [withOwnId(result, payloads[0]!)]
              : splitResult(result, payloads, rows, this.modelName);
        } catch (err) {
          fail(err);
          return;
        }
        settled();
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(parts[i]!);
      }, fail);
  }
}
