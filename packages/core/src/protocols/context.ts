import { randomUUID } from 'node:crypto';
import { deadlineFromHeaders } from '../admission/deadline.js';
import type { InferContext, Protocol } from '../model/model.js';
import type { TraceSpan } from '../tracing/span.js';

/**
 * Build the per-request context: request id from `x-request-id`, the body id, or a fresh UUID; deadline from the
 * `x-request-timeout` header (seconds); `span` is the request's server span when tracing is on. `signal` may be a
 * function making it: then it is made on first read of `ctx.signal` only (most requests never read it).
 */
export function makeContext(
  headers: InferContext['headers'],
  protocol: Protocol,
  signal: AbortSignal | (() => AbortSignal),
  bodyId?: string,
  span?: TraceSpan,
): InferContext {
  const header = headers['x-request-id'];
  const requestId = (typeof header === 'string' && header) || bodyId || randomUUID();
  const deadline = deadlineFromHeaders(headers);
  if (typeof signal !== 'function') return { headers, protocol, requestId, signal, deadline, span };
  let made: AbortSignal | undefined;
  return {
    headers,
    protocol,
    requestId,
    deadline,
    span,
    get signal(): AbortSignal {
      made ??= signal();
      return made;
    },
  };
}
