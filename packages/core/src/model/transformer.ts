import { InvalidInput, PredictorError, RequestCancelled, ServekitError } from '../errors.js';
import type { InferRequest, InferResponse, Payload, Result, V1Request, V1Response } from '../protocols/infer-types.js';
import { isInferRequest, isInferResponse } from '../protocols/infer-types.js';
import { responseToV1 } from '../protocols/v1-v2.js';
import type { ParsedFlags } from '../server/flags.js';
import { forwardHeaders } from './forward-headers.js';
import { type InferContext, Model, type ModelMetadata, type Protocol } from './model.js';
import { v2Response } from './v2-response.js';

export { FORWARDED_HEADERS, forwardHeaders } from './forward-headers.js';

/** The protocol a transformer speaks to its predictor (KServe's `--predictor_protocol`): a server's `Protocol`. */
export type PredictorProtocol = Protocol;

/** Where a transformer sends what its `preprocess` produced: a remote server or a model in this process. */
export interface Predictor {
  /** Human-readable location, used in error messages (e.g. `http://churn-predictor:8080`). */
  readonly description: string;
  /** The protocol requests are sent with. */
  readonly protocol: PredictorProtocol;
  /** Send a V1 body. */
  predictV1(model: string, body: V1Request, ctx: InferContext): Promise<V1Response>;
  /** Send a V2 request. */
  inferV2(model: string, request: InferRequest, ctx: InferContext): Promise<InferResponse>;
  /** True when the predictor's model is ready. */
  ready(model: string): Promise<boolean>;
  /** The predictor model's V2 metadata (inputs, outputs), e.g. to learn its input name and size. */
  metadata(model: string): Promise<ModelMetadata>;
  /** Prepare the predictor (an in-process one loads its model); called by `Transformer.load()`. Optional. */
  load?(): Promise<void>;
  /** Release connections. */
  close(): Promise<void>;
}

/** Options of a Transformer. Fields other than these (e.g. `modelDir`, `flags`) are ignored by the base class. */
export interface TransformerOptions {
  /** Where `predict` forwards to: `RemotePredictor` (@servekit/client) or `LocalPredictor`. */
  predictor: Predictor;
  /** The predictor's model name (defaults to the transformer's own name, as in KServe). */
  predictorModel?: string;
  /** Readiness follows the predictor (KServe's `--enable_predictor_health_check`). Default false. */
  healthCheck?: boolean;
  /** With healthCheck, the deadline of one predictor readiness check, in ms. Default 5000. */
  healthCheckTimeoutMs?: number;
  /** With healthCheck, how often the predictor's readiness is checked, in ms. Default 1000. */
  healthCheckIntervalMs?: number;
  /** The model dir `servekit serve --model_module` passes (not used by the base class). */
  modelDir?: string;
  /** Every parsed flag `servekit serve --model_module` passes (not used by the base class). */
  flags?: ParsedFlags;
}

/**
 * The error a transformer answers when its predictor answered `status` with `message`: 400 stays 400 (the
 * client's input was bad), 503 stays 503 (unavailable, with Retry-After), anything else becomes 502 naming the
 * predictor.
 */
export function predictorFailure(description: string, status: number, message: string): ServekitError {
  if (status === 400) return new InvalidInput(`Predictor ${description} rejected the request: ${message}`);
  if (status === 499) return new RequestCancelled();
  if (status === 503) return new PredictorError(`Predictor ${description} is unavailable: ${message}`, 503);
  return new PredictorError(`Predictor ${description} answered ${status}: ${message}`, 502);
}

/**
 * A model whose `predict` forwards to a predictor — KServe's transformer. Subclass it and override
 * `preprocess` (client payload → predictor payload) and `postprocess` (predictor result → client answer).
 * An InferRequest goes to the predictor as V2 (REST or gRPC), a V1 body as V1, with the request id,
 * credentials and trace headers of the incoming request (`forwardHeaders`). The predictor is remote
 * (`RemotePredictor` from @servekit/client) or in-process (`LocalPredictor`, no network hop): the
 * transformer code is the same.
 */
export class Transformer extends Model {
  /** Where `predict` forwards to. */
  readonly predictor: Predictor;
  /** The model name requests are sent to. */
  readonly predictorModel: string;
  private readonly healthCheck: boolean;
  private readonly checkTimeoutMs: number;
  private readonly checkIntervalMs: number;
  private predictorReady = false;
  private monitor?: NodeJS.Timeout;
  private checking = false;
  /** Why the predictor was last seen not ready (health check only). */
  predictorStatus = 'not checked yet';

  /**
   * `options.predictor` is required: a transformer built from flags without `--predictor_host` or
   * `--predictor_model_dir` (a `--model_module` class gets the flags' options untyped) fails here, saying what to pass.
   */
  constructor(name: string, options: TransformerOptions) {
    super(name);
    if (!options?.predictor) {
      throw new Error(
        `Transformer ${name} has no predictor: start it with --predictor_host HOST:PORT or --predictor_model_dir DIR.`,
      );
    }
    this.predictor = options.predictor;
    this.predictorModel = options.predictorModel ?? name;
    this.healthCheck = options.healthCheck ?? false;
    this.checkTimeoutMs = options.healthCheckTimeoutMs ?? 5000;
    this.checkIntervalMs = options.healthCheckIntervalMs ?? 1000;
  }

  /** Loaded and, with the health check, the predictor was ready when last checked (the monitor keeps it fresh). */
  override isReady(): boolean {
    return this.ready && (!this.healthCheck || this.predictorReady);
  }

  /** With the health check, the server is not ready while the predictor is not (KServe's semantics). */
  override get gatesServerReadiness(): boolean {
    return this.healthCheck;
  }

  /** With the health check, what the predictor's last readiness check found. */
  override get notReadyReason(): string | undefined {
    if (!this.healthCheck || this.predictorReady) return undefined;
    return `Its predictor is not ready: ${this.predictorStatus}.`;
  }

  /**
   * Prepare the predictor (an in-process one loads its model). With the health check, check the predictor once
   * and keep checking it every `healthCheckIntervalMs`: `isReady()` is false while the predictor is not ready.
   * Does not wait for a remote predictor to come up, so the server listens (and reports not ready) meanwhile.
   */
  override async load(): Promise<void> {
    await this.predictor.load?.();
    if (!this.healthCheck) return;
    await this.checkPredictor();
    this.stopMonitor();
    this.monitor = setInterval(() => void this.checkPredictor(), this.checkIntervalMs);
    this.monitor.unref();
  }

  /** Check the predictor's readiness once (health check). */
  private async checkPredictor(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const ready = await withTimeout(this.predictor.ready(this.predictorModel), this.checkTimeoutMs);
      this.predictorReady = ready;
      this.predictorStatus = ready
        ? 'ready'
        : `${this.predictor.description} reports model ${this.predictorModel} not ready`;
    } catch (err) {
      this.predictorReady = false;
      this.predictorStatus = (err as Error).message;
    } finally {
      this.checking = false;
    }
  }

  private stopMonitor(): void {
    if (this.monitor) clearInterval(this.monitor);
    this.monitor = undefined;
  }

  /** Forward the (preprocessed) payload: an InferRequest goes as V2 (REST or gRPC), a V1 body as V1. */
  override async predict(payload: Payload, ctx: InferContext): Promise<Result> {
    const hop: InferContext = {
      ...ctx,
      headers: { 'x-request-id': ctx.requestId, ...forwardHeaders(ctx.headers) },
    };
    if (isInferRequest(payload)) {
      if (this.predictor.protocol === 'v1') {
        throw new InvalidInput(
          `Transformer ${this.name}: its predictor speaks v1, so this transformer takes V1 requests ({"instances": [...]}); preprocess produced a V2 request.`,
        );
      }
      return this.predictor.inferV2(this.predictorModel, payload, hop);
    }
    if (this.predictor.protocol !== 'v1') {
      throw new InvalidInput(
        `Transformer ${this.name}: its predictor speaks ${this.predictor.protocol}, so this transformer takes V2 requests; preprocess produced a V1 body.`,
      );
    }
    return this.predictor.predictV1(this.predictorModel, payload, hop);
  }

  /** Stop the health check and release the predictor's connections (or unload the in-process model). */
  override async unload(): Promise<void> {
    this.stopMonitor();
    await this.predictor.close();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Builds the model of a LocalPredictor when the transformer loads (e.g. detected from a model dir). */
export type LocalModelFactory = () => Promise<Model>;

/**
 * A predictor that is a Model in this process: the transformer's hop costs a function call, not a request.
 * Answers and failures are those a servekit server in front of the same model would give (V1 ⇄ V2
 * conversion, requested outputs, 400 kept, other failures as 502 naming the predictor).
 */
export class LocalPredictor implements Predictor {
  /** Human-readable name used in error messages. */
  readonly description: string;
  private model?: Model;
  private readonly factory?: LocalModelFactory;

  /**
   * `model` is the model itself, or a factory called by `load()`. `protocol` is what the transformer's
   * `preprocess` produces: V1 bodies (`v1`) or InferRequests (`v2`, also for transformers written for gRPC).
   */
  constructor(
    model: Model | LocalModelFactory,
    readonly protocol: 'v1' | 'v2' = 'v2',
    description?: string,
  ) {
    if (model instanceof Model) this.model = model;
    else this.factory = model;
    this.description = description ?? `in-process model ${this.model?.name ?? ''}`.trim();
  }

  /** Run `payload` through the model and `shape` its result; a failure is answered as a servekit predictor's. */
  private async run<T>(payload: Payload, ctx: InferContext, shape: (result: Result) => T): Promise<T> {
    const model = this.model;
    if (!model?.isReady()) throw new PredictorError(`Predictor ${this.description} is not loaded.`, 503);
    const hop: InferContext = { ...ctx, protocol: this.protocol };
    try {
      const pre = await model.preprocess(payload, hop);
      const out = await model.predict(pre, hop);
      return shape(await model.postprocess(out, hop));
    } catch (err) {
      if (ctx.signal.aborted) throw new RequestCancelled();
      // The model's own exception (a JS message, maybe a path) goes to the log as the cause, not to the client.
      if (!(err instanceof ServekitError)) {
        throw new PredictorError(
          `Predictor ${this.description} failed to process the request (details are in the server log).`,
          502,
          err,
        );
      }
      throw predictorFailure(this.description, err.status, err.message);
    }
  }

  /** Run a V1 body through the model; a V2 result becomes a V1 body. */
  async predictV1(_model: string, body: V1Request, ctx: InferContext): Promise<V1Response> {
    return this.run(body, ctx, (r) => (isInferResponse(r) ? responseToV1(r) : r));
  }

  /** Run an InferRequest through the model; the response is shaped as a server shapes it (`v2Response`). */
  async inferV2(model: string, request: InferRequest, ctx: InferContext): Promise<InferResponse> {
    return this.run(request, ctx, (r) => v2Response(model, r, request));
  }

  /** True when the model is loaded. */
  async ready(): Promise<boolean> {
    return this.model?.isReady() === true;
  }

  /** The model's own V2 metadata; 503 before it is loaded. */
  async metadata(): Promise<ModelMetadata> {
    if (!this.model?.isReady()) throw new PredictorError(`Predictor ${this.description} is not loaded.`, 503);
    return this.model.metadata();
  }

  /** Build (with a factory) and load the model if it is not loaded yet; a failure names the predictor. */
  async load(): Promise<void> {
    if (this.model?.ready) return;
    try {
      this.model ??= await this.factory!();
      await this.model.load();
    } catch (err) {
      throw new Error(`Predictor ${this.description} failed to load: ${(err as Error).message}`);
    }
    this.model.ready = true;
  }

  /** Unload the model. */
  async close(): Promise<void> {
    if (!this.model) return;
    this.model.ready = false;
    await this.model.unload();
  }
}
