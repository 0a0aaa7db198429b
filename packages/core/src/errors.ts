import { status } from '@grpc/grpc-js';

/** gRPC status codes: @grpc/grpc-js's `status` enum, under the name servekit's errors use. */
export const GrpcCode = status;

/** Base class of every error servekit reports to a client; carries its HTTP status and gRPC code. */
export class ServekitError extends Error {
  /** HTTP status sent to REST clients. */
  readonly status: number;
  /** gRPC status code sent to gRPC clients. */
  readonly grpcCode: number;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Record<string, string>;

  constructor(message: string, status: number, grpcCode: number, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.grpcCode = grpcCode;
    this.headers = headers;
  }
}

/** The request is malformed or does not fit the model (HTTP 400, INVALID_ARGUMENT). */
export class InvalidInput extends ServekitError {
  constructor(message: string) {
    super(message, 400, GrpcCode.INVALID_ARGUMENT);
  }
}

/** No model of that name (or version) is registered (HTTP 404, NOT_FOUND). */
export class ModelNotFound extends ServekitError {
  constructor(name: string, version?: string) {
    super(
      version === undefined
        ? `Model with name ${clip(name)} does not exist.`
        : `Model ${clip(name)} has no version ${clip(version)}.`,
      404,
      GrpcCode.NOT_FOUND,
    );
  }
}

/** The model exists but is not ready to serve (HTTP 503 + Retry-After, UNAVAILABLE). */
export class ModelNotReady extends ServekitError {
  constructor(name: string, reason?: string) {
    super(`Model with name ${clip(name)} is not ready.${reason ? ` ${reason}` : ''}`, 503, GrpcCode.UNAVAILABLE, {
      'retry-after': '1',
    });
  }
}

/** The server is starting or shutting down (HTTP 503 + Retry-After, UNAVAILABLE). */
export class ServerNotReady extends ServekitError {
  constructor(message = 'Server is not ready.') {
    super(message, 503, GrpcCode.UNAVAILABLE, { 'retry-after': '1' });
  }
}

/** Too much work queued; the client should retry later (HTTP 503 + Retry-After, UNAVAILABLE). */
export class Overloaded extends ServekitError {
  constructor(message: string, retryAfterSeconds = 1) {
    super(message, 503, GrpcCode.UNAVAILABLE, { 'retry-after': String(retryAfterSeconds) });
  }
}

/** A request waited longer than its deadline (HTTP 503, DEADLINE_EXCEEDED). */
export class DeadlineExceeded extends ServekitError {
  constructor(message: string) {
    super(message, 503, GrpcCode.DEADLINE_EXCEEDED, { 'retry-after': '1' });
  }
}

/** The client went away or cancelled the request. */
export class RequestCancelled extends ServekitError {
  constructor(message = 'Request was cancelled by the client.') {
    super(message, 499, GrpcCode.CANCELLED);
  }
}

/** The model does not implement that operation, e.g. explain (HTTP 501, UNIMPLEMENTED). */
export class NotImplemented extends ServekitError {
  constructor(message: string) {
    super(message, 501, GrpcCode.UNIMPLEMENTED);
  }
}

/** A model failed while loading; the message says why. */
export class ModelLoadError extends ServekitError {
  constructor(name: string, cause: string) {
    super(`Model ${name} failed to load: ${cause}`, 503, GrpcCode.UNAVAILABLE);
  }
}

/** A failure of the model itself (HTTP 500, INTERNAL) carrying the model's message. */
export class InferenceError extends ServekitError {
  constructor(message: string) {
    super(message, 500, GrpcCode.INTERNAL);
  }
}

/** A transformer's predictor failed or answered with a server error (HTTP 502, UNAVAILABLE). */
export class PredictorError extends ServekitError {
  /** `cause`: the predictor's own exception, for the server log only (never sent to the client). */
  constructor(message: string, status = 502, cause?: unknown) {
    super(message, status, GrpcCode.UNAVAILABLE, status === 503 ? { 'retry-after': '1' } : {});
    if (cause !== undefined) this.cause = cause;
  }
}

/**
 * Any thrown value as a ServekitError: known errors pass through. Anything else is an internal failure whose
 * message (a JS message, a stack, a path) is for the server log only: the client gets a 500 naming `modelName`.
 */
export function toServekitError(err: unknown, modelName?: string): ServekitError {
  if (err instanceof ServekitError) return err;
  return new InferenceError(
    modelName === undefined
      ? 'Internal server error (details are in the server log).'
      : `Model ${clip(modelName)} failed to process the request (details are in the server log).`,
  );
}

/** Longest client-supplied string (model, tensor or verb name) echoed back in an error message. */
export const MAX_ECHOED_CHARS = 200;

/** `s` cut to `max` characters, the cut marked with its full length: client strings echoed in errors stay short. */
export function clip(s: string, max = MAX_ECHOED_CHARS): string {
  return s.length <= max ? s : `${s.slice(0, max)}…(${s.length} chars)`;
}

// An absolute POSIX path of two or more segments (not part of a URL: `//host/x` and `host:8080/x` are left alone),
// or a Windows drive path.
const ABSOLUTE_PATH = /(?<![\w.~:/\\-])(?:\/[^\s/"'`<>|:;,()[\]{}]+){2,}\/?|(?<![\w])[A-Za-z]:\\[^\s"'`<>|]+/g;

/**
 * A message safe to send to a client: absolute filesystem paths become relative to `cwd` when inside it, else
 * `…/` + their last segment. The REST and gRPC error boundaries send every message through it.
 */
export function redactPaths(message: string, cwd: string = process.cwd()): string {
  const root = cwd.endsWith('/') ? cwd : `${cwd}/`;
  return message.replace(ABSOLUTE_PATH, (path) => {
    if (path.startsWith(root) && path.length > root.length) return path.slice(root.length);
    const segments = path.split(/[\\/]/).filter((x) => x !== '');
    return `…/${segments[segments.length - 1] ?? ''}`;
  });
}
