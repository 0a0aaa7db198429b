import * as grpc from '@grpc/grpc-js';
import {
  forwardHeaders,
  type InferContext,
  type InferRequest,
  type InferResponse,
  type ModelMetadata,
  type Predictor,
  PredictorError,
  type PredictorProtocol,
  predictorFailure,
  RequestCancelled,
  type ServekitError,
  type V1Request,
  type V1Response,
} from '@servekit/core';
import { ClientError, isConnectionError } from './errors.js';
import { GrpcClient } from './grpc-client.js';
import { RestClient } from './rest-client.js';
import { type HopSpec, traceHop } from './trace-hop.js';

/** Options of a RemotePredictor (KServe's `--predictor_*` flags). */
export interface RemotePredictorOptions {
  /** The predictor, `host:port` (KServe's `--predictor_host`); an `http(s)://` URL is taken as the REST base. */
  host: string;
  /** Protocol spoken to the predictor: REST V1, REST V2 or gRPC V2. */
  protocol: PredictorProtocol;
  /** https / TLS instead of plain http / insecure gRPC. Default false (true when `tls` is given). */
  useSsl?: boolean;
  /** TLS to the predictor: the CA to trust instead of Node's roots, and a client certificate for mutual TLS. */
  tls?: PredictorTlsOptions;
  /** Deadline of one forwarded call, retries and backoff included, in ms. Default 600000 (KServe's 600 s). */
  timeoutMs?: number;
  /** Extra attempts on connection errors and 503 / UNAVAILABLE (never on 400 or 500). Default 0. */
  retries?: number;
  /** First backoff delay between retries, in ms; doubles each retry (a predictor's Retry-After wins). Default 50. */
  backoffMs?: number;
  /** Largest backoff delay, in ms. Default 2000. */
  maxBackoffMs?: number;
  /** REST V2 only: send and ask for tensors with the binary tensor extension instead of JSON. Default false. */
  binary?: boolean;
  /** Deadline of one readiness check, in ms. Default 5000 (or `timeoutMs` when smaller). */
  readyTimeoutMs?: number;
}

/** TLS material of the connection to a predictor (PEM). */
export interface PredictorTlsOptions {
  /** CA certificates the predictor's certificate must chain to (default: Node's bundled roots). */
  ca?: Buffer;
  /** Client certificate chain, for a predictor that requires one. */
  cert?: Buffer;
  /** Private key of `cert`. */
  key?: Buffer;
}

const GRPC_CONNECT_FAILURE = /No connection established|connect|ECONNREFUSED|ECONNRESET|Name resolution/i;

/**
 * A transformer's predictor on another server, over KServe V1 REST, V2 REST or V2 gRPC: keep-alive
 * connections, a deadline on every call, retries on connection errors and 503 with backoff, the request id,
 * credentials and trace headers forwarded. Failures become errors naming the predictor: unreachable or
 * timed out → 503 with Retry-After, its 400 → 400 with its message, its 503 → 503, any other answer → 502.
 */
export class RemotePredictor implements Predictor {
  /** `http(s)://host:port` (REST) or `grpc(s)://host:port`. */
  readonly description: string;
  /** The protocol requests are sent with. */
  readonly protocol: PredictorProtocol;
  private readonly rest?: RestClient;
  private readonly grpc?: GrpcClient;
  private readonly timeoutMs: number;
  private readonly readyTimeoutMs: number;
  private readonly binary: boolean;
  /** `server.address` / `server.port` of the predictor, for client spans. */
  private readonly server: { 'server.address': string; 'server.port': number | undefined };

  constructor(options: RemotePredictorOptions) {
    const { host, protocol } = options;
    if (!host) throw new Error('RemotePredictor needs a host (host:port).');
    if (protocol !== 'v1' && protocol !== 'v2' && protocol !== 'grpc-v2') {
      throw new Error(`predictor protocol must be one of v1, v2, grpc-v2; got "${String(protocol)}"`);
    }
    this.protocol = protocol;
    this.timeoutMs = options.timeoutMs ?? 600_000;
    this.readyTimeoutMs = Math.min(options.readyTimeoutMs ?? 5000, this.timeoutMs);
    this.binary = options.binary ?? false;
    const retry = {
      retries: options.retries ?? 0,
      backoffMs: options.backoffMs,
      maxBackoffMs: options.maxBackoffMs,
      retryOnUnavailable: true,
    };
    const tls = options.tls ?? {};
    const ssl = options.useSsl ?? options.tls !== undefined;
    if (protocol === 'grpc-v2') {
      const bare = host.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
      // As KServe: a gRPC host without a port gets :80 (:443 with TLS).
      const address = /:\d+$/.test(bare) ? bare : `${bare}:${ssl ? 443 : 80}`;
      this.description = `${ssl ? 'grpcs' : 'grpc'}://${address}`;
      const colon = address.lastIndexOf(':');
      this.server = { 'server.address': address.slice(0, colon), 'server.port': Number(address.slice(colon + 1)) };
      this.grpc = new GrpcClient({
        address,
        deadlineMs: this.timeoutMs,
        credentials: ssl
          ? grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null)
          : grpc.credentials.createInsecure(),
        ...retry,
      });
    } else {
      const base = /^https?:\/\//i.test(host) ? host.replace(/\/+$/, '') : `${ssl ? 'https' : 'http'}://${host}`;
      this.description = base;
      const url = new URL(base);
      const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
      this.server = { 'server.address': url.hostname, 'server.port': port };
      this.rest = new RestClient({ baseUrl: base, timeoutMs: this.timeoutMs, keepAlive: true, ...tls, ...retry });
    }
  }

  /** Forward a V1 body to `/v1/models/{model}:predict` (REST V1 predictors only). */
  async predictV1(model: string, body: V1Request, ctx: InferContext): Promise<V1Response> {
    if (!this.rest || this.protocol !== 'v1') {
      throw new PredictorError(`Predictor ${this.description} speaks ${this.protocol}, not v1.`, 502);
    }
    const rest = this.rest;
    const headers = forwardHeaders(ctx.headers);
    try {
      return await traceHop(
        ctx,
        headers,
        () => this.restHop(`/v1/models/${encodeURIComponent(model)}:predict`),
        () => rest.v1Predict(model, body, { headers, signal: ctx.signal }),
        failureAttributes,
      );
    } catch (err) {
      throw this.failure(err, ctx);
    }
  }

  /** Forward an InferRequest to `/v2/models/{model}/infer` or gRPC `ModelInfer`. */
  async inferV2(model: string, request: InferRequest, ctx: InferContext): Promise<InferResponse> {
    const headers = forwardHeaders(ctx.headers);
    try {
      const grpcClient = this.grpc;
      if (grpcClient) {
        return await traceHop(
          ctx,
          headers,
          () => this.grpcHop(),
          () => grpcClient.infer(model, request, { metadata: headers, signal: ctx.signal }),
          failureAttributes,
        );
      }
      if (this.protocol !== 'v2') {
        throw new PredictorError(`Predictor ${this.description} speaks ${this.protocol}, not v2.`, 502);
      }
      const rest = this.rest!;
      return await traceHop(
        ctx,
        headers,
        () => this.restHop(`/v2/models/${encodeURIComponent(model)}/infer`),
        () =>
          rest.infer(model, request, { headers, signal: ctx.signal, binary: this.binary, binaryOutputs: this.binary }),
        failureAttributes,
      );
    } catch (err) {
      throw this.failure(err, ctx);
    }
  }

  /** The predictor model's readiness (V1 `GET /v1/models/{m}`, V2 `…/ready`, gRPC `ModelReady`); no retries. */
  async ready(model: string): Promise<boolean> {
    const opts = { timeoutMs: this.readyTimeoutMs, deadlineMs: this.readyTimeoutMs, retries: 0 };
    try {
      if (this.grpc) return await this.grpc.modelReady(model, undefined, opts);
      if (this.protocol === 'v1') return await this.rest!.v1ModelReady(model, opts);
      return await this.rest!.modelReady(model, undefined, opts);
    } catch (err) {
      throw new Error(`Predictor ${this.description}: ${(err as Error).message}`);
    }
  }

  /** The predictor model's V2 metadata (gRPC `ModelMetadata`, else `GET /v2/models/{model}`, which servekit and
   * KServe servers answer whatever protocol the transformer speaks); failures name the predictor. */
  async metadata(model: string): Promise<ModelMetadata> {
    const opts = { timeoutMs: this.readyTimeoutMs, deadlineMs: this.readyTimeoutMs };
    try {
      if (this.grpc) return await this.grpc.modelMetadata(model, undefined, opts);
      return await this.rest!.modelMetadata(model, undefined, opts);
    } catch (err) {
      throw new Error(`Predictor ${this.description}: metadata of ${model}: ${(err as Error).message}`);
    }
  }

  /** Close pooled connections (REST agent or gRPC channel). */
  async close(): Promise<void> {
    this.rest?.close();
    this.grpc?.close();
  }

  /** The client span of a REST call to `path` (OpenTelemetry HTTP client conventions). */
  private restHop(path: string): HopSpec {
    return {
      name: 'POST',
      attributes: { 'http.request.method': 'POST', 'url.full': `${this.description}${path}`, ...this.server },
      ok: { 'http.response.status_code': 200 },
    };
  }

  /** The client span of a gRPC ModelInfer call (OpenTelemetry RPC conventions). */
  private grpcHop(): HopSpec {
    return {
      name: `${GRPC_SERVICE}/ModelInfer`,
      attributes: { 'rpc.system': 'grpc', 'rpc.service': GRPC_SERVICE, 'rpc.method': 'ModelInfer', ...this.server },
      ok: { 'rpc.grpc.status_code': grpc.status.OK },
    };
  }

  /** A failed call as the error the transformer answers with. */
  private failure(err: unknown, ctx: InferContext): ServekitError {
    if (err instanceof PredictorError) return err;
    if (ctx.signal.aborted) return new RequestCancelled();
    const message = (err as Error)?.message ?? String(err);
    const seconds = this.timeoutMs / 1000;
    if (!(err instanceof ClientError))
      return new PredictorError(`Predictor ${this.description} failed: ${message}`, 502);
    if (err.code === 'ETIMEDOUT' || err.grpcCode === grpc.status.DEADLINE_EXCEEDED) {
      return new PredictorError(
        `Predictor ${this.description} did not answer within ${seconds} s (--predictor_request_timeout_seconds).`,
        503,
      );
    }
    if (err.status !== undefined) return predictorFailure(this.description, err.status, message);
    if (err.grpcCode !== undefined) {
      if (err.grpcCode === grpc.status.UNAVAILABLE && GRPC_CONNECT_FAILURE.test(message)) {
        return new PredictorError(`Predictor ${this.description} is unreachable: ${message}`, 503);
      }
      return predictorFailure(this.description, httpStatusOf(err.grpcCode), message);
    }
    if (isConnectionError(err) || err.code !== undefined || isConnectionError(err.cause)) {
      return new PredictorError(`Predictor ${this.description} is unreachable: ${message}`, 503);
    }
    return new PredictorError(`Predictor ${this.description} sent a bad answer: ${message}`, 502);
  }
}

const GRPC_SERVICE = 'inference.GRPCInferenceService';

/** The status attributes of a failed hop: the HTTP status or gRPC code the predictor answered, if any. */
function failureAttributes(err: unknown): Record<string, number | undefined> {
  if (!(err instanceof ClientError)) return {};
  return { 'http.response.status_code': err.status, 'rpc.grpc.status_code': err.grpcCode };
}

/** The HTTP status a servekit (or KServe) server uses for a gRPC status code. */
function httpStatusOf(code: number): number {
  switch (code) {
    case grpc.status.INVALID_ARGUMENT:
      return 400;
    case grpc.status.NOT_FOUND:
      return 404;
    case grpc.status.UNAVAILABLE:
    case grpc.status.RESOURCE_EXHAUSTED:
      return 503;
    case grpc.status.UNIMPLEMENTED:
      return 501;
    case grpc.status.UNAUTHENTICATED:
      return 401;
    case grpc.status.PERMISSION_DENIED:
      return 403;
    case grpc.status.CANCELLED:
      return 499;
    default:
      return 500;
  }
}
