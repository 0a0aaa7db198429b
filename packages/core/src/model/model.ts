import { NotImplemented } from '../errors.js';
import type { Payload, Result } from '../protocols/infer-types.js';
import type { Datatype } from '../tensor/datatypes.js';
import type { TraceSpan } from '../tracing/span.js';

/** Which wire protocol a request arrived on. */
export type Protocol = 'v1' | 'v2' | 'grpc-v2';

/** Per-request context handed to every hook. */
export interface InferContext {
  /** Request headers (lower-case names). gRPC metadata appears here too. */
  headers: Record<string, string | string[] | undefined>;
  /** The protocol the request arrived on. */
  protocol: Protocol;
  /** The request id (`x-request-id`, the V2 `id`, or a generated one). */
  requestId: string;
  /** Aborted when the client goes away or the server gives up on the request. */
  signal: AbortSignal;
  /**
   * Optional allocation-free poll of the same event: true once the client has gone away (REST: the connection closed
   * before the answer; gRPC: the call was cancelled). A queue holding many requests (the batcher) polls it instead of
   * making and subscribing to every request's `signal`. Absent → read `signal`.
   */
  clientGone?: () => boolean;
  /** The client's deadline on `performance.now()`'s clock (ms), if it sent one; queues drop the request past it. */
  deadline?: number;
  /** With tracing on: the span of the current stage (a transformer's call to its predictor carries it); else undefined. */
  span?: TraceSpan;
}

/** V2 metadata of one input or output tensor. */
export interface TensorMetadata {
  /** Tensor name. */
  name: string;
  /** V2 datatype. */
  datatype: Datatype;
  /** Shape, with -1 for variable dims. */
  shape: number[];
  /** Optional parameters (e.g. `content_type`). */
  parameters?: Record<string, string | number | boolean>;
}

/** V2 model metadata (`GET /v2/models/{name}`). */
export interface ModelMetadata {
  /** Model name. */
  name: string;
  /** Available versions. */
  versions?: string[];
  /** Platform, e.g. `onnxruntime_onnx` or `custom`. */
  platform: string;
  /** Inputs the model takes. */
  inputs: TensorMetadata[];
  /** Outputs the model produces. */
  outputs: TensorMetadata[];
}

/**
 * A servable model. Subclass it and implement `predict` (and usually `load`).
 * Hooks may be sync or async; the server calls `preprocess → predict → postprocess` for every request.
 *
 * CPU-heavy synchronous work in a hook blocks the event loop and every other request with it.
 * Run heavy compute off the loop (engines like onnxruntime-node already do; use `worker_threads`
 * for your own), or start the server with `--workers N` to spread requests over processes.
 */
export abstract class Model {
  /** The name clients address the model by. */
  readonly name: string;
  /** True once `load()` has succeeded (the repository sets it); whether the model serves is `isReady()`. */
  ready = false;

  constructor(name: string) {
    this.name = name;
  }

  /** Load weights/resources. Set nothing else: the repository marks the model ready when this resolves. */
  load(): void | Promise<void> {}

  /** Turn the client's payload into what `predict` takes. Identity by default. */
  preprocess(payload: Payload, _ctx: InferContext): Payload | Promise<Payload> {
    return payload;
  }

  /** Run inference. */
  abstract predict(payload: Payload, ctx: InferContext): Result | Promise<Result>;

  /** Turn `predict`'s result into the response body. Identity by default. */
  postprocess(result: Result, _ctx: InferContext): Result | Promise<Result> {
    return result;
  }

  /** Explain a prediction (V1 `:explain`). Not implemented unless overridden. */
  explain(_payload: Payload, _ctx: InferContext): Result | Promise<Result> {
    throw new NotImplemented(`Model ${this.name} does not support explain.`);
  }

  /** True when the subclass overrides `explain`. */
  get canExplain(): boolean {
    return this.explain !== Model.prototype.explain;
  }

  /**
   * True when the model can serve now (KServe's `Model.healthy()`): loaded, by default. A subclass with more
   * conditions (a transformer whose predictor must be up) overrides it. Synchronous: the server asks it on every
   * request and readiness probe, so an override answers from state it keeps, never from a network call.
   */
  isReady(): boolean {
    return this.ready;
  }

  /**
   * When true, the server's readiness (`/v2/health/ready`, gRPC ServerReady) also waits for this model's `isReady()`,
   * not only for its load: a transformer whose readiness follows its predictor. Default false.
   */
  get gatesServerReadiness(): boolean {
    return false;
  }

  /** Why a loaded model is not ready, for the 503 clients get (e.g. its predictor is down). Default none. */
  get notReadyReason(): string | undefined {
    return undefined;
  }

  /** V2 metadata. Override to describe inputs and outputs. */
  metadata(): ModelMetadata {
    return { name: this.name, platform: 'custom', inputs: [], outputs: [] };
  }

  /** Release resources. The repository marks the model not ready before calling it. */
  unload(): void | Promise<void> {}
}
