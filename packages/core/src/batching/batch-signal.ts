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
 * The context a merged batch runs with: its first member's, with the batch's lazily made signal and span. An object
 * literal with own getters (not a class): a model that spreads its context (`{ ...ctx }`, as transformers do) keeps
 * the signal and the request id, each still read only when asked.
 */
export function batchContext(first: InferContext, batch: BatchSignal, span: TraceSpan | undefined): InferContext {
  return {
    headers: first.headers,
    protocol: first.protocol,
    deadline: first.deadline,
    span,
    /** The first member's request id (a generated one is drawn on first read, see makeContext). */
    get requestId(): string {
      return first.requestId;
    },
    /** Aborted when every member's signal has (made on first read). */
    get signal(): AbortSignal {
      return batch.signal;
    },
  };
}
