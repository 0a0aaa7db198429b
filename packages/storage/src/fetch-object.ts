import { createHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { causeText, networkCodeOf, StorageError } from './errors.js';
import type { ProgressReporter } from './progress.js';
import { type RetryPolicy, withRetry } from './retry.js';
import type { RemoteObject, Source } from './sources/source.js';
import type { StorageLogger } from './types.js';

/** What fetchObject needs besides the object. */
export interface FetchContext {
  uri: string;
  source: Source;
  retry: RetryPolicy;
  idleTimeoutMs: number;
  progress: ProgressReporter;
  logger: StorageLogger;
  signal: AbortSignal;
}

/**
 * Stream one object to `filePath` with retries (resuming with a range where the store allows),
 * an idle timeout, and verification of its size and MD5 when known. Returns the bytes written.
 */
export async function fetchObject(ctx: FetchContext, object: RemoteObject, filePath: string): Promise<number> {
  await mkdir(dirname(filePath), { recursive: true });
  const file = await open(filePath, 'w');
  let written = 0;
  let hash = createHash('md5');
  try {
    await withRetry(
      ctx.retry,
      async () => {
        const idle = new AbortController();
        const timeout = new StorageError('TIMEOUT', `no data for ${ctx.idleTimeoutMs} ms`, {
          uri: ctx.uri,
          object: object.key,
        });
        const timer = setTimeout(() => idle.abort(timeout), ctx.idleTimeoutMs);
        const signal = AbortSignal.any([ctx.signal, idle.signal]);
        try {
          if (written === 0) await file.truncate(0);
          const opened = await ctx.source.open(object, written, signal);
          if (opened.start !== written) {
            if (opened.start !== 0) {
              throw new StorageError('SERVER_ERROR', `range answer starts at ${opened.start}, not ${written}`, {
                uri: ctx.uri,
                object: object.key,
              });
            }
            ctx.progress.rewind(written);
            written = 0;
            hash = createHash('md5');
            await file.truncate(0);
          }
          const expectedSize = opened.decoded ? undefined : (object.size ?? opened.size);
          const expectedMd5 = opened.decoded ? undefined : (object.md5 ?? opened.md5);
          timer.refresh();
          for await (const chunk of opened.body) {
            timer.refresh();
            await file.write(chunk, 0, chunk.byteLength, written);
            written += chunk.byteLength;
            hash.update(chunk);
            ctx.progress.add(object.key, chunk.byteLength);
            if (expectedSize !== undefined && written > expectedSize) break;
          }
          verify(ctx.uri, object.key, written, expectedSize, hash.copy().digest('hex'), expectedMd5, () => {
            ctx.progress.rewind(written);
            written = 0;
            hash = createHash('md5');
          });
        } catch (err) {
          if (idle.signal.aborted && !ctx.signal.aborted) throw timeout;
          throw asStorageError(ctx, object.key, err);
        } finally {
          clearTimeout(timer);
        }
      },
      (err, attempt, delay) =>
        ctx.logger.warn(
          `retrying ${object.key} (attempt ${attempt + 1}/${ctx.retry.retries + 1}, in ${Math.round(delay)} ms${
            written > 0 ? `, resuming at byte ${written}` : ''
          }): ${err.message}`,
        ),
      ctx.signal,
    );
  } finally {
    await file.close();
  }
  return written;
}

/** Throw INTEGRITY (retryable, after `reset`) when the size or MD5 differs from what the store announced. */
function verify(
  uri: string,
  key: string,
  written: number,
  expectedSize: number | undefined,
  md5: string,
  expectedMd5: string | undefined,
  reset: () => void,
): void {
  let problem: string | undefined;
  if (expectedSize !== undefined && written !== expectedSize) {
    problem = `got ${written} bytes, expected ${expectedSize}`;
  } else if (expectedMd5 !== undefined && md5 !== expectedMd5.toLowerCase()) {
    problem = `MD5 ${md5} does not match the store's ${expectedMd5}`;
  }
  if (problem === undefined) return;
  reset();
  throw new StorageError('INTEGRITY', problem, { uri, object: key, retryable: true });
}

/** Wrap a failure while streaming as a StorageError naming the object. */
function asStorageError(ctx: FetchContext, key: string, err: unknown): unknown {
  if (err instanceof StorageError) return err;
  if (ctx.signal.aborted)
    return new StorageError('ABORTED', causeText(ctx.signal.reason), { uri: ctx.uri, object: key, cause: err });
  const code = networkCodeOf(err);
  if (code !== undefined) return new StorageError(code, causeText(err), { uri: ctx.uri, object: key, cause: err });
  const errno = (err as { code?: unknown }).code;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno) && (err as { syscall?: unknown }).syscall !== undefined) {
    return new StorageError('DESTINATION', causeText(err), { uri: ctx.uri, object: key, cause: err });
  }
  return new StorageError('NETWORK', causeText(err), { uri: ctx.uri, object: key, cause: err });
}
