/**
 * Admission control without batching: a concurrency cap per model and one for the whole server, with a bounded FIFO
 * wait queue per model. A request that finds no free slot waits (oldest first, across models when the server-wide
 * cap is what binds); one that finds its model's queue full is refused at once with Overloaded (503 + Retry-After,
 * UNAVAILABLE: Triton's "Exceeds maximum queue size"). A waiting request leaves the queue at once when its client
 * goes away (RequestCancelled) or its deadline passes (RequestTimeoutExpired); one whose deadline passed by the time
 * a slot frees is dropped before it runs. Off unless a cap is set: the DataPlane then creates no controller.
 */

import type { Registry } from 'prom-client';
import { Overloaded, RequestCancelled, ServerNotReady } from '../errors.js';
import type { InferContext } from '../model/model.js';
import {
  type AdmissionCounts,
  type AdmissionMetrics,
  type AdmissionRejectReason,
  admissionMetrics,
} from './admission-metrics.js';
import { deadlinePassed, goneAtDeadline, RequestTimeoutExpired } from './deadline.js';

/** Admission control options; on when either cap is above 0. */
export interface AdmissionOptions {
  /** Requests one model runs at once (preprocess → predict → postprocess); 0 = unlimited. Default 0. */
  maxConcurrentRequests?: number;
  /** Requests all models together run at once; 0 = unlimited. Default 0. */
  maxConcurrentRequestsTotal?: number;
  /** Requests waiting for a slot per model; one more is refused with 503 at once. 0 = none wait. Default 1024. */
  maxQueueSize?: number;
}

/** Default of {@link AdmissionOptions.maxQueueSize}. */
export const DEFAULT_ADMISSION_QUEUE_SIZE = 1024;

/** True when the options turn admission control on (a per-model or server-wide cap above 0). */
export function admissionEnabled(o: AdmissionOptions | undefined): o is AdmissionOptions {
  return o !== undefined && ((o.maxConcurrentRequests ?? 0) > 0 || (o.maxConcurrentRequestsTotal ?? 0) > 0);
}

/** Throws a RangeError naming the bad option; call at startup so bad flags fail early. */
export function validateAdmissionOptions(o: AdmissionOptions): void {
  const check = (what: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
      throw new RangeError(`Admission control: ${what} must be an integer ≥ 0, got ${v}.`);
    }
  };
  check('maxConcurrentRequests (--max_concurrent_requests)', o.maxConcurrentRequests);
  check('maxConcurrentRequestsTotal (--max_concurrent_requests_total)', o.maxConcurrentRequestsTotal);
  check('maxQueueSize (--max_queue_size)', o.maxQueueSize);
}

interface Waiter {
  readonly gate: Gate;
  readonly ctx: InferContext;
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  readonly onAbort: () => void;
  timer?: NodeJS.Timeout;
}

/** One model's slots and wait queue. */
class Gate implements AdmissionCounts {
  running = 0;
  readonly queue: Waiter[] = [];
  constructor(readonly name: string) {}
  get waiting(): number {
    return this.queue.length;
  }
}

/** Concurrency caps and wait queues of every model; see the module comment. */
export class AdmissionController {
  private readonly gates = new Map<string, Gate>();
  /** Gates with at least one waiter. */
  private readonly waitingGates = new Set<Gate>();
  private readonly perModel: number;
  private readonly total: number;
  private readonly maxQueueSize: number;
  private readonly metrics: AdmissionMetrics;
  private totalRunning = 0;
  private seq = 0;
  private closed = false;

  /** Metrics go to `registry`; a model's gate is made on its first request (callers pass registered names only). */
  constructor(options: AdmissionOptions, registry: Registry) {
    validateAdmissionOptions(options);
    const cap = (v: number | undefined) => (v !== undefined && v > 0 ? v : Number.POSITIVE_INFINITY);
    this.perModel = cap(options.maxConcurrentRequests);
    this.total = cap(options.maxConcurrentRequestsTotal);
    this.maxQueueSize = options.maxQueueSize ?? DEFAULT_ADMISSION_QUEUE_SIZE;
    this.metrics = admissionMetrics(registry, () => this.gates.values());
  }

  /** Requests running now, all models. */
  get running(): number {
    return this.totalRunning;
  }

  /** Requests of `name` waiting for a slot. */
  queueDepth(name: string): number {
    return this.gates.get(name)?.queue.length ?? 0;
  }

  /**
   * Run `fn` holding one of `name`'s slots: at once when one is free, else after waiting in the model's queue
   * (`onWaited` then gets the wait in ms). Rejects without calling `fn` with Overloaded (queue full),
   * RequestTimeoutExpired (deadline passed first), RequestCancelled (client gone) or ServerNotReady (closed).
   */
  run<T>(name: string, ctx: InferContext, fn: () => Promise<T>, onWaited?: (ms: number) => void): Promise<T> {
    const gate = this.gate(name);
    if (gate.queue.length === 0 && this.hasSlot(gate)) {
      this.enter(gate);
      return this.holding(gate, fn);
    }
    const t0 = performance.now();
    return this.wait(gate, ctx).then(() => {
      onWaited?.(performance.now() - t0);
      return this.holding(gate, fn);
    });
  }

  /** Refuse new requests and fail every waiting one with ServerNotReady; running ones finish. */
  close(): void {
    this.closed = true;
    for (const gate of this.waitingGates) {
      for (const w of [...gate.queue]) this.drop(w, 'shutdown', new ServerNotReady('Server is shutting down.'));
    }
  }

  private gate(name: string): Gate {
    let gate = this.gates.get(name);
    if (!gate) {
      gate = new Gate(name);
      this.gates.set(name, gate);
    }
    return gate;
  }

  private hasSlot(gate: Gate): boolean {
    return gate.running < this.perModel && this.totalRunning < this.total;
  }

  private enter(gate: Gate): void {
    gate.running++;
    this.totalRunning++;
  }

  private async holding<T>(gate: Gate, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      gate.running--;
      this.totalRunning--;
      if (this.waitingGates.size > 0) this.pump();
    }
  }

  private wait(gate: Gate, ctx: InferContext): Promise<void> {
    const { name } = gate;
    if (this.closed) return Promise.reject(new ServerNotReady('Server is shutting down.'));
    if (ctx.signal.aborted) return Promise.reject(new RequestCancelled());
    if (deadlinePassed(ctx)) {
      this.count(name, 'deadline');
      return Promise.reject(new RequestTimeoutExpired(name, 'admission'));
    }
    if (gate.queue.length >= this.maxQueueSize) {
      this.count(name, 'queue_full');
      const binding = gate.running >= this.perModel ? `its ${this.perModel}` : `the server's ${this.total}`;
      return Promise.reject(
        new Overloaded(
          `Exceeds maximum queue size: model ${name} has ${gate.queue.length} requests waiting for one of ${binding} ` +
            `concurrency slots (--max_queue_size ${this.maxQueueSize}). Retry later.`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        gate,
        ctx,
        seq: this.seq++,
        resolve,
        reject,
        onAbort: () =>
          goneAtDeadline(ctx)
            ? this.drop(waiter, 'deadline', new RequestTimeoutExpired(name, 'admission'))
            : this.drop(waiter, 'cancelled', new RequestCancelled()),
      };
      ctx.signal.addEventListener('abort', waiter.onAbort, { once: true });
      if (ctx.deadline !== undefined) {
        waiter.timer = setTimeout(
          () => this.drop(waiter, 'deadline', new RequestTimeoutExpired(name, 'admission')),
          Math.max(0, ctx.deadline - performance.now()),
        );
      }
      gate.queue.push(waiter);
      this.waitingGates.add(gate);
    });
  }

  /** Grant free slots to waiters, the oldest eligible one first, dropping those whose deadline has passed. */
  private pump(): void {
    while (this.totalRunning < this.total) {
      let next: Gate | undefined;
      for (const g of this.waitingGates) {
        if (g.running < this.perModel && (!next || g.queue[0]!.seq < next.queue[0]!.seq)) next = g;
      }
      if (!next) return;
      const waiter = next.queue[0]!;
      if (deadlinePassed(waiter.ctx)) {
        this.drop(waiter, 'deadline', new RequestTimeoutExpired(next.name, 'admission'));
        continue;
      }
      this.remove(waiter);
      this.enter(next);
      waiter.resolve();
    }
  }

  /** Take a waiter out of its queue and fail it. */
  private drop(waiter: Waiter, reason: AdmissionRejectReason, err: Error): void {
    if (!this.remove(waiter)) return;
    this.count(waiter.gate.name, reason);
    waiter.reject(err);
  }

  /** Take a waiter out of its queue (false when it already left). */
  private remove(waiter: Waiter): boolean {
    const { queue } = waiter.gate;
    const i = queue[0] === waiter ? 0 : queue.indexOf(waiter);
    if (i < 0) return false;
    queue.splice(i, 1);
    if (queue.length === 0) this.waitingGates.delete(waiter.gate);
    clearTimeout(waiter.timer);
    waiter.ctx.signal.removeEventListener('abort', waiter.onAbort);
    return true;
  }

  private count(name: string, reason: AdmissionRejectReason): void {
    this.metrics.rejected.inc({ model_name: name, reason });
  }
}
