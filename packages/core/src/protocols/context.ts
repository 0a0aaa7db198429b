import { randomUUID } from 'node:crypto';
import { deadlineFromHeaders } from '../admission/deadline.js';
import type { InferContext, Protocol } from '../model/model.js';
import type { TraceSpan } from '../tracing/span.js';

/**
 * Build the per-request context: request id from `x-request-id`, the body id, or a fresh UUID; deadline from the
 * `x-request-timeout` header (seconds); `span` is the request's server span when tracing is on. `signal` may be a
 * function making it: then it is made on first read of `ctx.signal` only (most requests never read it). A generated
 * request id is likewise drawn on first read of `ctx.requestId` (a transformer forwards it; the plain path never
 * reads it), and stays the same for every later read.
 */
export function makeContext(
  headers: InferContext['headers'],
  protocol: Protocol,
  signal: AbortSignal | (() => AbortSignal),
  bodyId?: string,
  span?: TraceSpan,
): InferContext {
  const header = headers['x-request-id'];
  let requestId: string | undefined = (typeof header === 'string' && header) || bodyId || undefined;
  const deadline = deadlineFromHeaders(headers);
  let made: AbortSignal | undefined = typeof signal === 'function' ? undefined : signal;
  return {
    headers,
    protocol,
    get requestId(): string {
      requestId ??= randomUUID();
      return requestId;
    },
    deadline,
    span,
    get signal(): AbortSignal {
      made ??= (signal as () => AbortSignal)();
      return made;
    },
  };
}
