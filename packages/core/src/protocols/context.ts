import { randomUUID } from 'node:crypto';
import type { InferContext, Protocol } from '../model/model.js';

/**
 * Build the per-request context: request id from `x-request-id`, the body id, or a fresh UUID. `signal` may be a
 * function making it: then it is made on first read of `ctx.signal` only (most requests never read it).
 */
export function makeContext(
  headers: InferContext['headers'],
  protocol: Protocol,
  signal: AbortSignal | (() => AbortSignal),
  bodyId?: string,
): InferContext {
  const header = headers['x-request-id'];
  const requestId = (typeof header === 'string' && header) || bodyId || randomUUID();
  if (typeof signal !== 'function') return { headers, protocol, requestId, signal };
  let made: AbortSignal | undefined;
  return {
    headers,
    protocol,
    requestId,
    get signal(): AbortSignal {
      made ??= signal();
      return made;
    },
  };
}
