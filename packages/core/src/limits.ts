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
  /** Largest JSON text of one REST request in bytes (a whole JSON body, or the JSON part of a binary one). */
  maxJsonBodySize: number;
}

/** Defaults of {@link RequestLimits}: 256 MiB of decoded tensors, JSON nested 64 levels deep, 16 MiB of JSON. */
export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({
  maxDecodedBytes: 256 * 1024 * 1024,
  maxJsonDepth: 64,
  maxJsonBodySize: 16 * 1024 * 1024,
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

/** Running total of the bytes one request has decoded so far, checked against `limits` before each allocation. */
export class DecodeBudget {
  private used = 0;

  constructor(readonly limits: RequestLimits) {}

  /** Account `bytes` more for `what`; throws {@link RequestTooLarge} when the request's total would pass the limit. */
  take(bytes: number, what: string): void {
    checkDecodedBytes(this.used + bytes, this.limits, what);
    this.used += bytes;
  }
}
