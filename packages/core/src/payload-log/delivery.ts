import type { Agent, ClientRequest } from 'node:http';
import type { Logger } from 'pino';
import { type RetryPolicy, withRetries } from '../retry.js';
import { cloudEventHeaders, type EventAttributes, type PayloadEvent } from './cloud-event.js';
import type { PayloadLogMetrics } from './metrics.js';
import { isConnectionError, postEvent, receiverAgent } from './post-event.js';

/** Settings of an {@link EventDelivery}. */
export interface DeliverySettings {
  /** The receiver's URL. */
  url: string;
  /** Most events waiting; more are dropped. */
  queueSize: number;
  /** Events sent at once. */
  senders: number;
  /** Retries on 5xx, timeouts and connection errors. */
  retry: RetryPolicy;
  /** Longest wait for one POST's answer, in ms. */
  timeoutMs: number;
}

/** A receiver's answer worth another try (5xx). */
class RetryableStatus extends Error {}

/** Most often a delivery failure is written to the server log, in ms (the failures are counted in between). */
const FAILURE_LOG_INTERVAL_MS = 10_000;

/** True for errors worth another try: 5xx answers, timeouts and connection errors. */
function isRetryable(err: unknown): boolean {
  return err instanceof RetryableStatus || isConnectionError(err);
}

/**
 * A bounded queue of events and a few concurrent senders POSTing them to the receiver over kept-alive connections
 * (one per sender), retrying with backoff. Enqueueing never waits and never throws: a full queue drops the event and counts it.
 */
export class EventDelivery {
  private readonly queue: PayloadEvent[] = [];
  private readonly idleSenders: Array<() => void> = [];
  private readonly abort = new AbortController();
  private readonly url: URL;
  private readonly agent: Agent;
  /** The POST each sender has on the wire, cut when the grace period ends. */
  private readonly onWire: Array<ClientRequest | undefined>;
  private inFlight = 0;
  private kickScheduled = false;
  private closing = false;
  private flushed?: () => void;
  private failuresSinceLog = 0;
  private lastFailureLog = 0;

  constructor(
    private readonly settings: DeliverySettings,
    /** `ce-*` attributes shared by every event (the source is filled in once the server listens). */
    readonly attributes: EventAttributes,
    private readonly metrics: PayloadLogMetrics,
    private readonly logger: Logger,
  ) {
    this.url = new URL(settings.url);
    this.agent = receiverAgent(this.url, settings.senders);
    this.onWire = new Array(settings.senders);
    for (let i = 0; i < settings.senders; i++) void this.runSender(i);
  }

  /** Queue `event` for sending; dropped (and counted) when the queue is full or delivery is closed. */
  enqueue(event: PayloadEvent): void {
    if (this.closing || this.queue.length >= this.settings.queueSize) {
      this.metrics.dropped.inc();
      return;
    }
    this.queue.push(event);
    if (this.idleSenders.length > 0 && !this.kickScheduled) {
      this.kickScheduled = true;
      setImmediate(this.kick);
    }
  }

  /**
   * Wake idle senders for the queued events once the current I/O is done: a POST is never built inside the
   * request that logs it, so its cost does not land on that request's latency.
   */
  private readonly kick = (): void => {
    this.kickScheduled = false;
    for (let n = Math.min(this.queue.length, this.idleSenders.length); n > 0; n--) this.idleSenders.pop()?.();
  };

  /** Events waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Send what is queued and stop: resolves once every event is delivered or given up, or at `deadline` (epoch ms),
   * when sends still running are aborted and events still queued are dropped (and counted).
   */
  async close(deadline: number): Promise<void> {
    this.closing = true;
    for (const wake of this.idleSenders.splice(0)) wake();
    if (this.idle()) {
      this.agent.destroy();
      return;
    }
    const done = new Promise<void>((resolve) => {
      this.flushed = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (!this.idle()) {
      const left = this.queue.splice(0).length;
      this.metrics.dropped.inc(left);
      const sending = this.inFlight;
      const cut = new Error('payload log: grace period over');
      this.abort.abort(cut);
      for (const req of this.onWire) req?.destroy(cut);
      await done; // the cut sends settle at once (counted as failed)
      this.logger.warn({ dropped: left, cut: sending }, 'payload log not flushed within the grace period');
    }
    this.agent.destroy();
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  private async runSender(sender: number): Promise<void> {
    for (;;) {
      const event = this.queue.shift();
      if (event === undefined) {
        if (this.closing) return;
        await new Promise<void>((resolve) => this.idleSenders.push(resolve));
        continue;
      }
      this.inFlight++;
      try {
        await this.deliver(event, sender);
      } finally {
        this.inFlight--;
        if (this.closing && this.idle()) this.flushed?.();
      }
    }
  }

  private async deliver(event: PayloadEvent, sender: number): Promise<void> {
    const headers = cloudEventHeaders(event, this.attributes);
    const signal = this.abort.signal;
    try {
      await withRetries(
        this.settings.retry,
        async () => {
          if (signal.aborted) throw signal.reason;
          const { url, timeoutMs } = this.settings;
          const status = await postEvent(this.url, this.agent, headers, event.body, timeoutMs, (req, onWire) => {
            if (onWire) this.onWire[sender] = req;
            else if (this.onWire[sender] === req) this.onWire[sender] = undefined;
          });
          if (status >= 500) throw new RetryableStatus(`log receiver ${url} answered ${status}`);
          if (status < 200 || status >= 300) throw new Error(`log receiver ${url} answered ${status}`);
        },
        (err) => (isRetryable(err) ? null : undefined),
        signal,
      );
      this.metrics.sent.inc({ type: event.kind });
    } catch (err) {
      this.metrics.failed.inc();
      this.noteFailure(err);
    }
  }

  /** Write a delivery failure to the server log, at most once per interval (with the count since the last line). */
  private noteFailure(err: unknown): void {
    this.failuresSinceLog++;
    const now = Date.now();
    if (now - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    this.logger.warn(
      { url: this.settings.url, failures: this.failuresSinceLog, err: (err as Error).message, cause },
      'payload log events not delivered',
    );
    this.failuresSinceLog = 0;
    this.lastFailureLog = now;
  }
}
