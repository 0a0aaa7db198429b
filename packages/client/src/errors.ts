/** Details of a failed client call. */
export interface ClientErrorDetails {
  /** HTTP status the server answered with (REST). */
  status?: number;
  /** gRPC status code (gRPC). */
  grpcCode?: number;
  /** Node error code of a transport failure, e.g. `ECONNREFUSED` or `ETIMEDOUT`. */
  code?: string;
  /** Delay the server asked for before a retry (`Retry-After`), in ms. */
  retryAfterMs?: number;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A failed inference-server call. `message` is the server's own `error` message (REST) or status details
 * (gRPC) when the server answered; otherwise it describes the transport failure.
 */
export class ClientError extends Error {
  /** HTTP status (REST calls the server answered). */
  readonly status?: number;
  /** gRPC status code (gRPC calls). */
  readonly grpcCode?: number;
  /** Node error code of a transport failure (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, …). */
  readonly code?: string;
  /** Delay the server asked for before a retry, in ms. */
  readonly retryAfterMs?: number;

  constructor(message: string, details: ClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ClientError';
    this.status = details.status;
    this.grpcCode = details.grpcCode;
    this.code = details.code;
    this.retryAfterMs = details.retryAfterMs;
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** True for errors where the request never got an answer because the connection failed (safe to retry). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_CODES.has(code)) return true;
  return err.message === 'socket hang up';
}
