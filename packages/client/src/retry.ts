/** How a client retries failed calls. */
export interface RetryOptions {
  /** Extra attempts after the first one. Default 2. */
  retries?: number;
  /** First backoff delay in ms; doubles on every retry. Default 50. */
  backoffMs?: number;
  /** Largest backoff delay in ms (also caps a server's Retry-After). Default 2000. */
  maxBackoffMs?: number;
  /** Retry when the server answers 503 / UNAVAILABLE (not ready, overloaded). Default true. */
  retryOnUnavailable?: boolean;
}

/** RetryOptions with every field filled in. */
export type RetryPolicy = Required<RetryOptions>;

/** Fill in the defaults of retry options. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    retries: Math.max(0, Math.floor(options.retries ?? 2)),
    backoffMs: Math.max(0, options.backoffMs ?? 50),
    maxBackoffMs: Math.max(0, options.maxBackoffMs ?? 2000),
    retryOnUnavailable: options.retryOnUnavailable ?? true,
  };
}

/** Backoff before retry number `attempt` (0-based): exponential with jitter, or the server's hint, capped. */
export function backoffDelay(policy: RetryPolicy, attempt: number, hintMs?: number): number {
  if (hintMs !== undefined) return Math.min(hintMs, policy.maxBackoffMs);
  const exp = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** attempt);
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

/**
 * Run `attempt` until it succeeds, `shouldRetry` says no (returns undefined), or the retries are spent.
 * `shouldRetry` returns a delay hint in ms (or null for the policy's backoff) when the error is retryable.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  shouldRetry: (err: unknown) => number | null | undefined,
  signal?: AbortSignal,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= policy.retries || signal?.aborted) throw err;
      const hint = shouldRetry(err);
      if (hint === undefined) throw err;
      await sleep(backoffDelay(policy, n, hint ?? undefined), signal).catch(() => {
        throw err;
      });
    }
  }
}
