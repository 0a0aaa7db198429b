import type { InferRequest, InferResponse, ModelMetadata, V1Request, V1Response } from '@servekit/core';
import type { RepositoryIndexEntry, ServerMetadata } from '@servekit/core/wire';
import { CallSignal } from './call-signal.js';
import { ClientError, isConnectionError } from './errors.js';
import { type HttpResponse, HttpTransport, type HttpTransportOptions } from './http-transport.js';
import { decodeRestResponse, encodeRestRequest, INFERENCE_HEADER, type RestEncodeOptions } from './rest-codec.js';
import { type RetryOptions, type RetryPolicy, retryPolicy, withRetries } from './retry.js';

/** Options of a RestClient. */
export interface RestClientOptions extends RetryOptions, HttpTransportOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** Time allowed for one call, retries and backoff included, in ms. Default 60000. */
  timeoutMs?: number;
  /** Headers sent with every call (per-call headers override them). */
  headers?: Record<string, string>;
}

/** Per-call options. */
export interface CallOptions {
  /** Extra headers for this call, e.g. forwarded `x-request-id`, `authorization`, `traceparent`. */
  headers?: Record<string, string>;
  /** Time allowed for this call (overrides the client's). */
  timeoutMs?: number;
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Retries for this call (overrides the client's). */
  retries?: number;
}

/** Per-call options of `infer`. */
export interface InferOptions extends CallOptions, RestEncodeOptions {
  /** Model version; the default version when absent. */
  version?: string;
}

interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: Uint8Array[];
  headers?: Record<string, string>;
  /** Statuses that are answers, not errors (e.g. 503 from a readiness route). */
  accept?: number[];
  /** Retry on 503 (not for readiness or load). */
  retryUnavailable: boolean;
}

const utf8 = new TextEncoder();
const JSON_HEADERS = { 'content-type': 'application/json' };

function seg(s: string): string {
  return encodeURIComponent(s);
}

function modelPath(name: string, version?: string): string {
  return version === undefined ? `/v2/models/${seg(name)}` : `/v2/models/${seg(name)}/versions/${seg(version)}`;
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const s = Number(v);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

/** The server's `{"error": "..."}` message of a failed response, or the body text. */
function errorMessage(res: HttpResponse): string {
  const text = res.body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed?.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through to the text
  }
  return text || `HTTP ${res.status}`;
}

function parseJson<T>(res: HttpResponse): T {
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch (err) {
    throw new ClientError(`Malformed JSON response (HTTP ${res.status}): ${(err as Error).message}`, {
      status: res.status,
      cause: err,
    });
  }
}

/**
 * KServe V1 and Open Inference Protocol (V2) REST client: JSON or binary tensor extension in both directions,
 * typed-array tensors, keep-alive connections, per-call timeouts and retries (connection errors and 503).
 * Errors are ClientError with the HTTP status and the server's `error` message.
 */
export class RestClient {
  private readonly transport: HttpTransport;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: RestClientOptions) {
    this.transport = new HttpTransport(options.baseUrl, options);
    this.policy = retryPolicy(options);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.headers = { ...options.headers };
  }

  /** V2 inference. Typed-array tensors in and out; `binary` / `binaryOutputs` use the binary extension. */
  async infer(model: string, request: InferRequest, options: InferOptions = {}): Promise<InferResponse> {
    const encoded = encodeRestRequest(request, options);
    const res = await this.call(
      {
        method: 'POST',
        path: `${modelPath(model, options.version)}/infer`,
        body: encoded.body,
        headers: encoded.headers,
        retryUnavailable: true,
      },
      options,
    );
    const header = res.headers[INFERENCE_HEADER];
    return decodeRestResponse(res.body, header === undefined ? undefined : Number(header));
  }

  /** V1 `:predict` with `{"instances": [...]}` or `{"inputs": ...}`. */
  async v1Predict(model: string, body: V1Request, options: CallOptions = {}): Promise<V1Response> {
    return this.v1Verb(model, 'predict', body, options);
  }

  /** V1 `:explain`. */
  async v1Explain(model: string, body: V1Request, options: CallOptions = {}): Promise<V1Response> {
    return this.v1Verb(model, 'explain', body, options);
  }

  /** V1 model list (`GET /v1/models`). */
  async v1Models(options: CallOptions = {}): Promise<string[]> {
    const res = await this.call({ method: 'GET', path: '/v1/models', retryUnavailable: true }, options);
    return parseJson<{ models: string[] }>(res).models;
  }

  /** V1 model status (`GET /v1/models/{name}`): true when ready. Unknown models throw (404). */
  async v1ModelReady(model: string, options: CallOptions = {}): Promise<boolean> {
    const res = await this.call(
      { method: 'GET', path: `/v1/models/${seg(model)}`, accept: [503], retryUnavailable: false },
      options,
    );
    return parseJson<{ ready: boolean }>(res).ready === true;
  }

  /** `GET /v2/health/live`. */
  async serverLive(options: CallOptions = {}): Promise<boolean> {
    const res = await this.call({ method: 'GET', path: '/v2/health/live', retryUnavailable: false }, options);
    return parseJson<{ live: boolean }>(res).live === true;
  }

  /** `GET /v2/health/ready` (503 → false). */
  async serverReady(options: CallOptions = {}): Promise<boolean> {
    const res = await this.call(
      { method: 'GET', path: '/v2/health/ready', accept: [503], retryUnavailable: false },
      options,
    );
    return parseJson<{ ready: boolean }>(res).ready === true;
  }

  /** `GET /v2/models/{name}[/versions/{v}]/ready` (503 → false; unknown models throw 404). */
  async modelReady(model: string, version?: string, options: CallOptions = {}): Promise<boolean> {
    const res = await this.call(
      { method: 'GET', path: `${modelPath(model, version)}/ready`, accept: [503], retryUnavailable: false },
      options,
    );
    return parseJson<{ ready: boolean }>(res).ready === true;
  }

  /** `GET /v2/models/{name}[/versions/{v}]`. */
  async modelMetadata(model: string, version?: string, options: CallOptions = {}): Promise<ModelMetadata> {
    const res = await this.call({ method: 'GET', path: modelPath(model, version), retryUnavailable: true }, options);
    return parseJson<ModelMetadata>(res);
  }

  /** `GET /v2`. */
  async serverMetadata(options: CallOptions = {}): Promise<ServerMetadata> {
    const res = await this.call({ method: 'GET', path: '/v2', retryUnavailable: true }, options);
    return parseJson<ServerMetadata>(res);
  }

  /** `POST /v2/repository/index`. */
  async repositoryIndex(options: CallOptions = {}): Promise<RepositoryIndexEntry[]> {
    const res = await this.call(
      {
        method: 'POST',
        path: '/v2/repository/index',
        body: [utf8.encode('{}')],
        headers: JSON_HEADERS,
        retryUnavailable: true,
      },
      options,
    );
    return parseJson<RepositoryIndexEntry[]>(res);
  }

  /** `POST /v2/repository/models/{name}/load`. A failed load throws with the server's reason. */
  async load(model: string, options: CallOptions = {}): Promise<void> {
    await this.call(
      {
        method: 'POST',
        path: `/v2/repository/models/${seg(model)}/load`,
        body: [utf8.encode('{}')],
        headers: JSON_HEADERS,
        retryUnavailable: false,
      },
      options,
    );
  }

  /** `POST /v2/repository/models/{name}/unload`. */
  async unload(model: string, options: CallOptions = {}): Promise<void> {
    await this.call(
      {
        method: 'POST',
        path: `/v2/repository/models/${seg(model)}/unload`,
        body: [utf8.encode('{}')],
        headers: JSON_HEADERS,
        retryUnavailable: false,
      },
      options,
    );
  }

  /** Close pooled keep-alive connections. */
  close(): void {
    this.transport.close();
  }

  private async v1Verb(model: string, verb: string, body: V1Request, options: CallOptions): Promise<V1Response> {
    const res = await this.call(
      {
        method: 'POST',
        path: `/v1/models/${seg(model)}:${verb}`,
        body: [utf8.encode(JSON.stringify(body))],
        headers: JSON_HEADERS,
        retryUnavailable: true,
      },
      options,
    );
    return parseJson<V1Response>(res);
  }

  private call(call: Call, options: CallOptions): Promise<HttpResponse> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    // Ends the attempts and retry waits at the timeout or when the caller aborts; released as soon as the call settles.
    const callSignal = new CallSignal(timeoutMs, options.signal);
    const { signal } = callSignal;
    const headers = { ...this.headers, ...options.headers, ...call.headers };
    const policy = options.retries === undefined ? this.policy : { ...this.policy, retries: options.retries };
    const url = this.transport.url(call.path);
    return withRetries(
      policy,
      async () => {
        let res: HttpResponse;
        try {
          res = await this.transport.send({ method: call.method, path: call.path, headers, body: call.body, signal });
        } catch (err) {
          if (callSignal.timedOut) {
            throw new ClientError(`${call.method} ${url} timed out after ${timeoutMs} ms.`, {
              code: 'ETIMEDOUT',
              cause: err,
            });
          }
          if (options.signal?.aborted) {
            throw new ClientError(`${call.method} ${url} was aborted.`, { code: 'ABORT_ERR', cause: err });
          }
          if (err instanceof ClientError) throw err;
          const e = err as NodeJS.ErrnoException;
          const code = e.code ?? (e.message === 'socket hang up' ? 'ECONNRESET' : undefined);
          throw new ClientError(`${call.method} ${url} failed: ${e.message}`, { code, cause: err });
        }
        if (res.status >= 400 && !call.accept?.includes(res.status)) {
          throw new ClientError(errorMessage(res), {
            status: res.status,
            retryAfterMs: parseRetryAfter(res.headers['retry-after']),
          });
        }
        return res;
      },
      (err) => {
        if (!(err instanceof ClientError)) return undefined;
        if (err.status === 503 && call.retryUnavailable && policy.retryOnUnavailable) return err.retryAfterMs ?? null;
        if (err.status === undefined && isConnectionError(err)) return null;
        return undefined;
      },
      signal,
    ).finally(() => callSignal.done());
  }
}
