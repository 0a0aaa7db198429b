/** Why a storage operation failed; lets callers react without parsing messages. */
export type StorageErrorCode =
  | 'INVALID_URI'
  | 'NO_CREDENTIALS'
  | 'ACCESS_DENIED'
  | 'NOT_FOUND'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'SERVER_ERROR'
  | 'INTEGRITY'
  | 'CONTENT_TYPE'
  | 'UNSAFE_ARCHIVE'
  | 'BAD_ARCHIVE'
  | 'TOO_LARGE'
  | 'NO_SPACE'
  | 'DESTINATION'
  | 'ABORTED';

/** Fields of a StorageError besides its message. */
export interface StorageErrorInit {
  /** The storage URI being fetched. */
  uri: string;
  /** The object, file or archive entry concerned, when one is. */
  object?: string;
  /** The underlying error. */
  cause?: unknown;
  /** True when retrying the same request may succeed (network errors, 5xx, timeouts). */
  retryable?: boolean;
}

/** An error fetching a storage URI; its message names the URI, the object and the cause. */
export class StorageError extends Error {
  /** Machine-readable cause. */
  readonly code: StorageErrorCode;
  /** The storage URI being fetched. */
  readonly uri: string;
  /** The object, file or archive entry concerned, when one is. */
  readonly object: string | undefined;
  /** True when retrying may succeed. */
  readonly retryable: boolean;

  constructor(code: StorageErrorCode, detail: string, init: StorageErrorInit) {
    const where = init.object ? `${init.uri} (object ${init.object})` : init.uri;
    super(`storage: ${describeCode(code)} fetching ${where}: ${detail}`, { cause: init.cause });
    this.name = 'StorageError';
    this.code = code;
    this.uri = init.uri;
    this.object = init.object;
    this.retryable = init.retryable ?? (code === 'NETWORK' || code === 'SERVER_ERROR' || code === 'TIMEOUT');
  }
}

/** Human wording of an error code, used as the message's lead. */
function describeCode(code: StorageErrorCode): string {
  switch (code) {
    case 'INVALID_URI':
      return 'invalid storage URI';
    case 'NO_CREDENTIALS':
      return 'missing or rejected credentials';
    case 'ACCESS_DENIED':
      return 'access denied';
    case 'NOT_FOUND':
      return 'not found';
    case 'TIMEOUT':
      return 'timed out';
    case 'NETWORK':
      return 'connection failed';
    case 'SERVER_ERROR':
      return 'server error';
    case 'INTEGRITY':
      return 'integrity check failed';
    case 'CONTENT_TYPE':
      return 'unexpected content type';
    case 'UNSAFE_ARCHIVE':
      return 'unsafe archive refused';
    case 'BAD_ARCHIVE':
      return 'invalid archive';
    case 'TOO_LARGE':
      return 'size limit exceeded';
    case 'NO_SPACE':
      return 'not enough disk space';
    case 'DESTINATION':
      return 'cannot write destination';
    case 'ABORTED':
      return 'aborted';
  }
}

/** Map an HTTP status of a storage API to an error code (undefined for success statuses). */
export function codeForHttpStatus(status: number): StorageErrorCode | undefined {
  if (status < 400) return undefined;
  if (status === 401) return 'NO_CREDENTIALS';
  if (status === 403) return 'ACCESS_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 408 || status === 504) return 'TIMEOUT';
  if (status === 429 || status >= 500) return 'SERVER_ERROR';
  return 'ACCESS_DENIED';
}

const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Classify a low-level error (socket, fetch, stream) as NETWORK/TIMEOUT, or undefined when it is neither. */
export function networkCodeOf(err: unknown): StorageErrorCode | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (typeof e !== 'object') break;
    const rec = e as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    const code = typeof rec.code === 'string' ? rec.code : '';
    if (code === 'ETIMEDOUT' || code.endsWith('_TIMEOUT') || rec.name === 'TimeoutError') return 'TIMEOUT';
    if (NETWORK_ERRNOS.has(code)) return 'NETWORK';
    if (rec.name === 'TypeError' && (rec.message === 'fetch failed' || rec.message === 'terminated')) {
      const inner = networkCodeOf(rec.cause);
      return inner ?? 'NETWORK';
    }
    if (
      typeof rec.message === 'string' &&
      /socket hang up|other side closed|premature close|aborted/i.test(rec.message)
    ) {
      return 'NETWORK';
    }
    e = rec.cause;
  }
  return undefined;
}

/** Short text for an underlying error, without stack. */
export function causeText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const inner = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${typeof code === 'string' ? `${code}: ` : ''}${err.message}${inner}`;
  }
  return String(err);
}
