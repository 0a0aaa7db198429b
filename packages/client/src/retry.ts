import type { RetryPolicy as BackoffPolicy } from '@servekit/core/retry';

// Backoff, sleep and the retry loop are core's (shared with @servekit/storage); the client adds its options.
export { backoffDelay, sleep, withRetries } from '@servekit/core/retry';

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

/** RetryOptions with every field filled in: core's RetryPolicy plus when to retry an unavailable server. */
export type RetryPolicy = BackoffPolicy & Required<Pick<RetryOptions, 'retryOnUnavailable'>>;

/** Fill in the defaults of retry options. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    retries: Math.max(0, Math.floor(options.retries ?? 2)),
    backoffMs: Math.max(0, options.backoffMs ?? 50),
    maxBackoffMs: Math.max(0, options.maxBackoffMs ?? 2000),
    retryOnUnavailable: options.retryOnUnavailable ?? true,
  };
}
