// Retrying a failed call with exponential backoff: the one implementation the client and storage packages share.
// No imports: @servekit/storage loads it alone (`@servekit/core/retry`), without the server.

/** How a failed call is retried: how many times, and the backoff between tries. */
export interface RetryPolicy {
  /** Extra attempts after the first one. */
  retries: number;
  /** First backoff delay in ms; doubles on every retry. */
  backoffMs: number;
  /** Largest backoff delay in ms (also caps a server's hint). */
  maxBackoffMs: number;
}

/** Backoff before retry number `retry` (0-based): exponential with jitter over its upper half, or the hint, capped. */
export function backoffDelay(policy: RetryPolicy, retry: number, hintMs?: number): number {
  if (hintMs !== undefined) return Math.min(hintMs, policy.maxBackoffMs);
  const exp = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** retry);
  return exp / 2 + (Math.random() * exp) / 2;
}

/** Resolve after `ms`, or reject with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What `withRetries` does around each retry. */
export interface RetryHooks {
  /** Hears about each retry before its backoff: the error, the retry number (0-based) and the delay in ms. */
  onRetry?: (err: unknown, retry: number, delayMs: number) => void;
  /** What an abort during a backoff throws: the last error (`error`, the default) or the signal's reason. */
  abortThrows?: 'error' | 'reason';
}

/**
 * Run `attempt` (numbered from 0) until it succeeds, `retryAfter` says no (returns undefined), the signal aborts
 * or the policy's retries are spent; the last error is thrown. `retryAfter` returns a delay hint in ms, or null
 * for the policy's backoff, when the error is retryable.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  retryAfter: (err: unknown) => number | null | undefined,
  signal?: AbortSignal,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= policy.retries || signal?.aborted) throw err;
      const hint = retryAfter(err);
      if (hint === undefined) throw err;
      const delay = backoffDelay(policy, n, hint ?? undefined);
      hooks.onRetry?.(err, n, delay);
      const backoff = sleep(delay, signal);
      await (hooks.abortThrows === 'reason'
        ? backoff
        : backoff.catch(() => {
            throw err;
          }));
    }
  }
}
