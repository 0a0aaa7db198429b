/**
 * The abort signal of one client call: aborted after its timeout or when the caller's signal aborts, and released
 * (timer cleared, listener removed) as soon as the call ends. Not `AbortSignal.timeout` + `AbortSignal.any`: the
 * timeout's timer lives for the whole timeout (the clients' default 60 s, a transformer's predictor 600 s) after a
 * call that took milliseconds, and both hold the signals through weak references, which V8's young collector treats
 * as strong, so every call (and, through the caller's signal, its request) was promoted to the old generation and
 * freed only by full GCs (a transformer forwarding 3k req/s promoted 4.7 KB per request; 1.2 KB with this, most of it
 * the AbortControllers themselves, which Node 20 promotes on their own: `bench/v8-retention.mjs`). A class, not an
 * object literal with a getter: a literal's accessor pair is itself an old-generation object.
 */
export class CallSignal {
  /** Aborts on timeout (reason: a `TimeoutError` DOMException) or with the caller's signal's reason. */
  readonly signal: AbortSignal;
  #timedOut = false;
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #outer: AbortSignal | undefined;
  readonly #onAbort = (): void => this.#controller.abort(this.#outer?.reason);

  /** A call's signal: `timeoutMs` from now, or `outer` (the caller's signal) aborting, whichever comes first. */
  constructor(timeoutMs: number, outer?: AbortSignal) {
    this.signal = this.#controller.signal;
    this.#outer = outer;
    // unref: like AbortSignal.timeout's, a pending call's timer does not keep the process alive by itself.
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new DOMException(`The operation timed out after ${timeoutMs} ms.`, 'TimeoutError'));
    }, timeoutMs).unref();
    if (outer?.aborted) this.#controller.abort(outer.reason);
    else outer?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** True once the timeout, not the caller, aborted the call. */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** The call has ended: clear the timer and stop listening to the caller's signal. Idempotent. */
  done(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener('abort', this.#onAbort);
  }
}
