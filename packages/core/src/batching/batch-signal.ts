/**
 * The abort signal of a merged batch: it aborts once every member's signal has (the batch runs for whoever is still
 * waiting). Made lazily: most models never read `ctx.signal`, so the batch makes no AbortController and adds no
 * listener to its members unless the model asks for the signal.
 */
import type { InferContext } from '../model/model.js';
import type { TraceSpan } from '../tracing/span.js';

/** A batch's signal over its members' contexts, made on first `signal` read; `release` unsubscribes it. */
export class BatchSignal {
  private controller?: AbortController;
  private live = 0;
  private released = false;
  private readonly onMemberAbort = () => {
    if (--this.live === 0) this.controller?.abort();
  };

  /** `members`: the batch's requests (their contexts). */
  constructor(private readonly members: readonly { readonly ctx: InferContext }[]) {}

  /** The batch's signal: aborted already if every member's is, else when the last live member's aborts. */
  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    this.controller = new AbortController();
    if (this.released) return this.controller.signal;
    for (const { ctx } of this.members) {
      if (ctx.signal.aborted) continue;
      this.live++;
      ctx.signal.addEventListener('abort', this.onMemberAbort, { once: true });
    }
    if (this.live === 0) this.controller.abort();
    return this.controller.signal;
  }

  /** The batch has finished: stop listening to the members (no-op when the signal was never made). */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (!this.controller) return;
    for (const { ctx } of this.members) ctx.signal.removeEventListener('abort', this.onMemberAbort);
  }
}

/**
 * The context a merged batch runs with: its first member's, with the batch's lazily made signal and span.
 * `requestId` and `signal` are own enumerable getters, so a model spreading its context (`{ ...ctx }`, as
 * transformers do) gets their values. The getters are shared by every batch (defined on each instance from one
 * descriptor, as `RequestContext` does), not made per batch as an object literal's getters are: a literal's getter
 * pair is allocated in V8's old generation, so each batch's dead pair held the batch's closures, and through them every
 * member request, past the young-generation collections until the next full GC (measured on the batched MLP: 3.1 KB
 * per request promoted and a full GC every second; 64 B per request and none with shared getters).
 */
class BatchContext implements InferContext {
  static readonly #requestId: PropertyDescriptor = {
    enumerable: true,
    configurable: true,
    get(this: BatchContext): string {
      return this.#first.requestId;
    },
  };
  static readonly #signal: PropertyDescriptor = {
    enumerable: true,
    configurable: true,
    get(this: BatchContext): AbortSignal {
      return this.#batch.signal;
    },
  };

  // `declare`: no field definitions; the constructor makes the own properties in the literal's order.
  declare headers: InferContext['headers'];
  declare protocol: InferContext['protocol'];
  declare deadline: number | undefined;
  declare span: TraceSpan | undefined;
  /** The first member's request id (a generated one is drawn on first read, see makeContext). */
  declare readonly requestId: string;
  /** Aborted when every member's signal has (made on first read). */
  declare readonly signal: AbortSignal;
  readonly #first: InferContext;
  readonly #batch: BatchSignal;

  constructor(first: InferContext, batch: BatchSignal, span: TraceSpan | undefined) {
    this.headers = first.headers;
    this.protocol = first.protocol;
    this.deadline = first.deadline;
    this.span = span;
    Object.defineProperty(this, 'requestId', BatchContext.#requestId);
    Object.defineProperty(this, 'signal', BatchContext.#signal);
    this.#first = first;
    this.#batch = batch;
  }
}

/** The context a merged batch runs with: `first`'s headers, protocol and deadline, the batch's signal and `span`. */
export function batchContext(first: InferContext, batch: BatchSignal, span: TraceSpan | undefined): InferContext {
  return new BatchContext(first, batch, span);
}
