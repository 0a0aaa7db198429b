import { InvalidInput, ModelNotReady } from '../errors.js';
import type { InferRequest, InferResponse, Payload, Result, V1Request, V1Response } from '../tensor/infer-types.js';
import { isInferRequest, isInferResponse } from '../tensor/infer-types.js';
import { responseToV1 } from '../tensor/json-tensor.js';
import { type InferContext, Model } from './model.js';

/** Where a transformer sends what its `preprocess` produced: a remote server or a model in this process. */
export interface Predictor {
  /** Human-readable location, used in error messages (e.g. `http://churn-predictor:8080`). */
  readonly description: string;
  /** The protocol requests are sent with. */
  readonly protocol: 'v1' | 'v2' | 'grpc-v2';
  /** Send a V1 body. */
  predictV1(model: string, body: V1Request, ctx: InferContext): Promise<V1Response>;
  /** Send a V2 request. */
  inferV2(model: string, request: InferRequest, ctx: InferContext): Promise<InferResponse>;
  /** True when the predictor's model is ready. */
  ready(model: string): Promise<boolean>;
  /** Release connections. */
  close(): Promise<void>;
}

/** Options of a Transformer. */
export interface TransformerOptions {
  /** The predictor's model name (defaults to the transformer's own name, as in KServe). */
  predictorModel?: string;
  /** Readiness follows the predictor: `load()` waits for it and `ready` re-checks it. */
  healthCheck?: boolean;
  /** With healthCheck, how long `load()` waits for the predictor. Default 60 s. */
  healthCheckTimeoutMs?: number;
}

/**
 * A model whose `predict` forwards to a predictor — KServe's transformer. Subclass it and override
 * `preprocess` (client payload → predictor payload) and `postprocess` (predictor result → client answer).
 * The predictor is remote (`RemotePredictor` from @servekit/client: REST V1/V2 or gRPC) or in-process
 * (`LocalPredictor`, no network hop): the transformer code is the same.
 */
export class Transformer extends Model {
  constructor(
    name: string,
    readonly predictor: Predictor,
    private readonly options: TransformerOptions = {},
  ) {
    super(name);
  }

  /** The model name requests are sent to. */
  get predictorModel(): string {
    return this.options.predictorModel ?? this.name;
  }

  /** With healthCheck, wait until the predictor reports ready (polling), else fail with the reason. */
  override async load(): Promise<void> {
    if (!this.options.healthCheck) return;
    const deadline = Date.now() + (this.options.healthCheckTimeoutMs ?? 60_000);
    let last = 'not ready';
    while (Date.now() < deadline) {
      try {
        if (await this.predictor.ready(this.predictorModel)) return;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new ModelNotReady(this.name, `Predictor ${this.predictor.description} is not ready: ${last}`);
  }

  /** Forward the (preprocessed) payload: an InferRequest goes as V2 (REST or gRPC), a V1 body as V1. */
  override async predict(payload: Payload, ctx: InferContext): Promise<Result> {
    if (isInferRequest(payload)) {
      if (this.predictor.protocol === 'v1') {
        throw new InvalidInput(
          `Transformer ${this.name}: preprocess produced a V2 request but the predictor speaks v1; return {"instances": [...]}.`,
        );
      }
      return this.predictor.inferV2(this.predictorModel, payload, ctx);
    }
    if (this.predictor.protocol !== 'v1') {
      throw new InvalidInput(
        `Transformer ${this.name}: the predictor speaks ${this.predictor.protocol}; preprocess must return an InferRequest.`,
      );
    }
    return this.predictor.predictV1(this.predictorModel, payload, ctx);
  }

  override async unload(): Promise<void> {
    await this.predictor.close();
  }
}

/** A predictor that is a Model in this process: the transformer's hop costs a function call, not a request. */
export class LocalPredictor implements Predictor {
  readonly description: string;

  constructor(
    private readonly model: Model,
    readonly protocol: 'v1' | 'v2' = 'v2',
  ) {
    this.description = `in-process model ${model.name}`;
  }

  private async run(payload: Payload, ctx: InferContext): Promise<Result> {
    if (!this.model.ready) throw new ModelNotReady(this.model.name);
    const pre = await this.model.preprocess(payload, ctx);
    const out = await this.model.predict(pre, ctx);
    return this.model.postprocess(out, ctx);
  }

  async predictV1(_model: string, body: V1Request, ctx: InferContext): Promise<V1Response> {
    const r = await this.run(body, ctx);
    return isInferResponse(r) ? responseToV1(r) : r;
  }

  async inferV2(_model: string, request: InferRequest, ctx: InferContext): Promise<InferResponse> {
    const r = await this.run(request, ctx);
    if (!isInferResponse(r)) throw new InvalidInput(`Model ${this.model.name} returned a V1 body to a V2 request.`);
    return r;
  }

  async ready(): Promise<boolean> {
    return this.model.ready;
  }

  /** Loads the wrapped model if it is not loaded yet. */
  async loadModel(): Promise<void> {
    if (this.model.ready) return;
    await this.model.load();
    this.model.ready = true;
  }

  async close(): Promise<void> {
    await this.model.unload();
  }
}
