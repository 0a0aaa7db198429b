import { Readable } from 'node:stream';
import { causeText, codeForHttpStatus, networkCodeOf, StorageError, type StorageErrorCode } from './errors.js';

/** Where a request goes and what it is about (for error messages). */
export interface RequestTarget {
  uri: string;
  object?: string;
}

/** `fetch` that turns connection failures into StorageErrors (NETWORK/TIMEOUT, retryable). */
export async function fetchOrThrow(target: RequestTarget, url: string | URL, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const signal = init.signal;
    if (signal?.aborted) {
      const reason: unknown = signal.reason;
      if (reason instanceof StorageError) throw reason;
      throw new StorageError('ABORTED', causeText(reason), { ...target, cause: err });
    }
    throw new StorageError(networkCodeOf(err) ?? 'NETWORK', causeText(err), { ...target, cause: err });
  }
}

/** Throw a StorageError for a non-2xx response, quoting the start of its body; `hint` adds advice. */
export async function throwForStatus(
  target: RequestTarget,
  res: Response,
  hint?: (code: StorageErrorCode) => string,
): Promise<void> {
  if (res.ok) return;
  const code = codeForHttpStatus(res.status) ?? 'SERVER_ERROR';
  let text = '';
  try {
    text = (await res.text()).slice(0, 300).replace(/\s+/g, ' ').trim();
  } catch {
    // the body is only for the message
  }
  const advice = hint?.(code);
  throw new StorageError(
    code,
    `HTTP ${res.status} ${res.statusText}${text ? `: ${text}` : ''}${advice ? ` (${advice})` : ''}`,
    target,
  );
}

/** The body of a fetch response as a Node stream of Uint8Arrays. */
export function responseBody(target: RequestTarget, res: Response): AsyncIterable<Uint8Array> {
  if (res.body === null) throw new StorageError('SERVER_ERROR', 'response has no body', target);
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

/** Total object size from a 200's Content-Length or a 206's Content-Range. */
export function responseSize(res: Response): number | undefined {
  const range = res.headers.get('content-range');
  const raw = res.status === 206 && range ? range.split('/')[1] : res.headers.get('content-length');
  const n = raw === undefined || raw === null ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Offset of a 206 response's first byte (0 for a 200). */
export function responseStart(res: Response): number {
  if (res.status !== 206) return 0;
  return Number(/bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1] ?? 0);
}
