import { type RetryPolicy, withRetries } from '@servekit/core/retry';
import { StorageError } from './errors.js';

// Backoff, sleep and the retry loop are core's (shared with @servekit/client); storage retries retryable
// StorageErrors only and, when its signal aborts a backoff, throws the signal's reason.
export { type RetryPolicy, sleep } from '@servekit/core/retry';

/**
 * Run `fn` until it succeeds or fails with a non-retryable error or the policy's retries are spent.
 * Only StorageErrors with `retryable` set are retried; `onRetry` hears about each retry with the number of the
 * attempt that failed (from 1).
 */
export function withRetry<T>(
  policy: RetryPolicy,
  fn: () => Promise<T>,
  onRetry: (err: StorageError, attempt: number, delayMs: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  return withRetries(policy, fn, (err) => (err instanceof StorageError && err.retryable ? null : undefined), signal, {
    onRetry: (err, retry, delayMs) => onRetry(err as StorageError, retry + 1, delayMs),
    abortThrows: 'reason',
  });
}

/** Run `fn` over `items` with at most `limit` in flight; the first failure aborts the rest and is thrown. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<R>,
  parent?: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], controller.signal);
      } catch (err) {
        if (failure === undefined) {
          failure = { err };
          controller.abort(err);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    parent?.removeEventListener('abort', onParentAbort);
  }
  if (failure !== undefined) throw failure.err;
  return results;
}
