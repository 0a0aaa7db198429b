import { InvalidInput, RequestCancelled } from '@servekit/core';
import { ImageFetchFailed, ImageFetchTimeout, ImageTooLarge } from './errors.js';

/** Limits of an image download. */
export interface FetchLimits {
  /** Largest image in bytes; a bigger body is aborted mid-stream (413). */
  maxBytes: number;
  /** Time allowed for the whole download, headers and body, in milliseconds (504 past it). */
  timeoutMs: number;
  /** Redirects followed at most (each must stay on http or https). */
  maxRedirects: number;
  /** When non-empty, only these host names (lower case, as in the URL) may be fetched. */
  allowedHosts?: readonly string[];
}

/** Parse and check an image URL: http or https only, and an allowed host when a list is given; 400 otherwise. */
export function checkImageUrl(raw: string, limits: Pick<FetchLimits, 'allowedHosts'>, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new InvalidInput(`Image URL "${raw}" is not a valid URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInput(`Image URL "${url.href}" must use http or https (got ${url.protocol.slice(0, -1)}).`);
  }
  const hosts = limits.allowedHosts ?? [];
  if (hosts.length > 0 && !hosts.includes(url.hostname.toLowerCase())) {
    throw new InvalidInput(`Image URL "${url.href}": host ${url.hostname} is not allowed (${hosts.join(', ')}).`);
  }
  return url;
}

/**
 * Download an image with `fetch`: http(s) only, redirects followed by hand (at most `maxRedirects`, each checked
 * like the original URL), the body streamed and aborted once it passes `maxBytes`, the whole download bounded by
 * `timeoutMs` and by `signal` (the client going away). Every failure names the URL: 400 for a bad URL or a 4xx
 * answer, 413 for an oversize image, 502 for an unreachable or failing server, 504 for a timeout.
 */
export async function fetchImage(raw: string, limits: FetchLimits, signal?: AbortSignal): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const abort = new AbortController();
  const signals = [timeout, abort.signal, ...(signal ? [signal] : [])];
  const combined = AbortSignal.any(signals);
  const original = checkImageUrl(raw, limits);
  let url = original;
  const failed = (err: unknown): Error => {
    if (signal?.aborted) return new RequestCancelled();
    if (timeout.aborted) {
      return new ImageFetchTimeout(`Image URL ${original.href}: no complete answer within ${limits.timeoutMs} ms.`);
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return new ImageFetchFailed(`Image URL ${url.href} could not be fetched: ${why}.`);
  };
  try {
    for (let redirects = 0; ; redirects++) {
      let res: Response;
      try {
        res = await fetch(url, { redirect: 'manual', signal: combined, headers: { accept: 'image/*' } });
      } catch (err) {
        throw failed(err);
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location !== null) {
        await res.body?.cancel();
        if (redirects >= limits.maxRedirects) {
          throw new ImageFetchFailed(`Image URL ${original.href}: more than ${limits.maxRedirects} redirects.`);
        }
        url = checkImageUrl(location, limits, url);
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        const what = `Image URL ${url.href} answered ${res.status} ${res.statusText}`.trim();
        if (res.status >= 400 && res.status < 500) throw new InvalidInput(`${what}.`);
        throw new ImageFetchFailed(`${what}.`);
      }
      return await readCapped(res, url, limits.maxBytes, abort, failed);
    }
  } finally {
    abort.abort();
  }
}

/** The body of `res`, refusing (413) a declared or streamed size over `maxBytes` and aborting the download. */
async function readCapped(
  res: Response,
  url: URL,
  maxBytes: number,
  abort: AbortController,
  failed: (err: unknown) => Error,
): Promise<Uint8Array> {
  const tooLarge = (size: string) =>
    new ImageTooLarge(`Image URL ${url.href} is ${size}; the limit is ${maxBytes} bytes.`);
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    abort.abort();
    throw tooLarge(`${declared} bytes`);
  }
  if (res.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        abort.abort();
        throw tooLarge(`over ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof ImageTooLarge) throw err;
    throw failed(err);
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks, total);
}
