import * as grpc from '@grpc/grpc-js';
import type { InferRequest, InferResponse, ModelMetadata, TensorMetadata } from '@servekit/core';
import { inferenceService, type ServerMetadata } from '@servekit/core/wire';
import { CallSignal } from './call-signal.js';
import { ClientError } from './errors.js';
import { decodeGrpcResponse, encodeGrpcRequest, type GrpcInferResponseMessage } from './grpc-codec.js';
import { type RetryOptions, type RetryPolicy, retryPolicy, withRetries } from './retry.js';
import { withoutIpServerName } from './tls-server-name.js';

/** Options of a GrpcClient. */
export interface GrpcClientOptions extends RetryOptions {
  /** Server address, `host:port`. */
  address: string;
  /** Deadline of one call, retries and backoff included, in ms. Default 60000. */
  deadlineMs?: number;
  /** Metadata (headers) sent with every call; per-call metadata overrides it. */
  metadata?: Record<string, string>;
  /** Send inputs as typed `contents` instead of `raw_input_contents`. Default false (raw). */
  typedContents?: boolean;
  /** Largest message sent or received, in bytes. Default 64 MiB. */
  maxMessageSize?: number;
  /** Channel credentials. Default insecure. With TLS to an IP address, no server name is sent (tls-server-name.ts). */
  credentials?: grpc.ChannelCredentials;
}

/** Per-call options of the gRPC client. */
export interface GrpcCallOptions {
  /** Extra metadata for this call, e.g. forwarded `x-request-id`, `authorization`, `traceparent`. */
  metadata?: Record<string, string>;
  /** Deadline of this call in ms (overrides the client's). */
  deadlineMs?: number;
  /** Retries for this call (overrides the client's). */
  retries?: number;
  /** Aborts the call. */
  signal?: AbortSignal;
}

/** Per-call options of `infer`. */
export interface GrpcInferOptions extends GrpcCallOptions {
  /** Model version; the default version when absent. */
  version?: string;
  /** Send typed `contents` for this call (overrides the client's `typedContents`). */
  typedContents?: boolean;
}

type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

interface GrpcTensorMetadata {
  name: string;
  datatype: TensorMetadata['datatype'];
  shape?: Array<string | number>;
}

function tensorMetadata(t: GrpcTensorMetadata): TensorMetadata {
  return { name: t.name, datatype: t.datatype, shape: (t.shape ?? []).map(Number) };
}

/**
 * Open Inference Protocol (V2) gRPC client built from `protos/grpc_predict_v2.proto`: typed-array tensors
 * (raw contents by default), deadlines, metadata forwarding and retries on UNAVAILABLE.
 * Errors are ClientError with the gRPC code and the server's details.
 */
export class GrpcClient {
  private readonly client: grpc.Client;
  private readonly policy: RetryPolicy;
  private readonly deadlineMs: number;
  private readonly metadata: Record<string, string>;
  private readonly typed: boolean;

  constructor(options: GrpcClientOptions) {
    const Service = inferenceService();
    const size = options.maxMessageSize ?? 64 * 1024 * 1024;
    const credentials = options.credentials
      ? withoutIpServerName(options.credentials)
      : grpc.credentials.createInsecure();
    this.client = new Service(options.address, credentials, {
      'grpc.max_receive_message_length': size,
      'grpc.max_send_message_length': size,
    });
    this.policy = retryPolicy(options);
    this.deadlineMs = options.deadlineMs ?? 60_000;
    this.metadata = { ...options.metadata };
    this.typed = options.typedContents ?? false;
  }

  /** ModelInfer with typed-array tensors. */
  async infer(model: string, request: InferRequest, options: GrpcInferOptions = {}): Promise<InferResponse> {
    const msg = encodeGrpcRequest(model, options.version, request, options.typedContents ?? this.typed);
    const res = await this.unary<GrpcInferResponseMessage>('ModelInfer', msg, options, true);
    return decodeGrpcResponse(res);
  }

  /** ServerLive. */
  async serverLive(options: GrpcCallOptions = {}): Promise<boolean> {
    return (await this.unary<{ live?: boolean }>('ServerLive', {}, options, true)).live === true;
  }

  /** ServerReady. */
  async serverReady(options: GrpcCallOptions = {}): Promise<boolean> {
    return (await this.unary<{ ready?: boolean }>('ServerReady', {}, options, true)).ready === true;
  }

  /** ModelReady (unknown models fail with NOT_FOUND). */
  async modelReady(model: string, version?: string, options: GrpcCallOptions = {}): Promise<boolean> {
    const res = await this.unary<{ ready?: boolean }>(
      'ModelReady',
      { name: model, version: version ?? '' },
      options,
      true,
    );
    return res.ready === true;
  }

  /** ServerMetadata. */
  async serverMetadata(options: GrpcCallOptions = {}): Promise<ServerMetadata> {
    const res = await this.unary<Partial<ServerMetadata>>('ServerMetadata', {}, options, true);
    return { name: res.name ?? '', version: res.version ?? '', extensions: res.extensions ?? [] };
  }

  /** ModelMetadata. */
  async modelMetadata(model: string, version?: string, options: GrpcCallOptions = {}): Promise<ModelMetadata> {
    const res = await this.unary<{
      name?: string;
      versions?: string[];
      platform?: string;
      inputs?: GrpcTensorMetadata[];
      outputs?: GrpcTensorMetadata[];
    }>('ModelMetadata', { name: model, version: version ?? '' }, options, true);
    return {
      name: res.name ?? model,
      versions: res.versions ?? [],
      platform: res.platform ?? '',
      inputs: (res.inputs ?? []).map(tensorMetadata),
      outputs: (res.outputs ?? []).map(tensorMetadata),
    };
  }

  /** RepositoryModelLoad. A failed load throws with the server's reason. */
  async load(model: string, options: GrpcCallOptions = {}): Promise<void> {
    await this.unary('RepositoryModelLoad', { model_name: model }, options, false);
  }

  /** RepositoryModelUnload. */
  async unload(model: string, options: GrpcCallOptions = {}): Promise<void> {
    await this.unary('RepositoryModelUnload', { model_name: model }, options, false);
  }

  /** Close the channel. */
  close(): void {
    this.client.close();
  }

  private unary<T>(method: string, request: unknown, options: GrpcCallOptions, retryUnavailable: boolean): Promise<T> {
    const fn = (this.client as unknown as Record<string, Unary>)[method]!.bind(this.client);
    const deadlineMs = options.deadlineMs ?? this.deadlineMs;
    const deadline = Date.now() + deadlineMs;
    // Ends retry waits at the deadline or when the caller aborts; released as soon as the call settles.
    const callSignal = new CallSignal(deadlineMs, options.signal);
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries({ ...this.metadata, ...options.metadata })) metadata.set(k, v);
    const policy = options.retries === undefined ? this.policy : { ...this.policy, retries: options.retries };
    return withRetries(
      policy,
      () =>
        new Promise<T>((resolve, reject) => {
          if (options.signal?.aborted) {
            reject(new ClientError(`${method} was aborted.`, { code: 'ABORT_ERR', cause: options.signal.reason }));
            return;
          }
          const call = fn(request, metadata, { deadline }, (err, response) => {
            options.signal?.removeEventListener('abort', onAbort);
            if (err) {
              reject(new ClientError(err.details || err.message, { grpcCode: err.code, cause: err }));
            } else {
              resolve(response as T);
            }
          });
          // The deadline ends calls by itself (DEADLINE_EXCEEDED); the caller's signal cancels them.
          const onAbort = () => call.cancel();
          options.signal?.addEventListener('abort', onAbort, { once: true });
        }),
      (err) => {
        if (!(err instanceof ClientError)) return undefined;
        if (err.grpcCode === grpc.status.UNAVAILABLE && (retryUnavailable || isConnectFailure(err))) return null;
        return undefined;
      },
      callSignal.signal,
    ).finally(() => callSignal.done());
  }
}

/** UNAVAILABLE from the channel itself (no server answered), as opposed to a server's own UNAVAILABLE. */
function isConnectFailure(err: ClientError): boolean {
  return /No connection established|connect|ECONNREFUSED|ECONNRESET/i.test(err.message);
}
