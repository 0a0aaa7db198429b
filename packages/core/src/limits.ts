import { GrpcCode, ServekitError } from './errors.js';

/**
 * Budgets every request decoder checks before it allocates (REST JSON, the binary extension, gRPC contents),
 * so that no single request can cost unbounded memory or time. One object per server, on `DataPlane.limits`.
 */
export interface RequestLimits {
  /** Most bytes the decoded input tensors of one request may occupy together (typed arrays, BYTES elements). */
  maxDecodedBytes: number;
  /** Deepest nesting of JSON arrays/objects accepted in a request body. */
  maxJsonDepth: number;
}

/** Defaults of {@link RequestLimits}: 256 MiB of decoded tensors, JSON nested 64 levels deep. */
export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({
  maxDecodedBytes: 256 * 1024 * 1024,
  maxJsonDepth: 64,
});

/** The request would decode to more than the server allows (HTTP 413, gRPC RESOURCE_EXHAUSTED). */
export class RequestTooLarge extends ServekitError {
  constructor(message: string) {
    super(message, 413, GrpcCode.RESOURCE_EXHAUSTED);
  }
}

/**
 * Throw {@link RequestTooLarge} when `bytes` (what is about to be allocated for `what`) would take the request's
 * decoded size past `limits.maxDecodedBytes`. Call it before allocating.
 */
export function checkDecodedBytes(bytes: number, limits: RequestLimits, what: string): void {
  if (!(bytes <= limits.maxDecodedBytes)) {
    throw new RequestTooLarge(
      `${what} would decode to ${bytes} bytes, over the limit of ${limits.maxDecodedBytes} (--max_decoded_bytes).`,
    );
  }
}
