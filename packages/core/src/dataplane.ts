import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { AdmissionController, type AdmissionOptions, admissionEnabled } from './admission/admission-controller.js';
import { applyTimeoutParameter } from './admission/deadline.js';
import { Batcher, type BatchingOptions, type BatchMetrics, batchMetrics } from './batching/batcher.js';
import {
  clip,
  InvalidInput,
  ModelNotFound,
  NotImplemented,
  type ServekitError,
  ServerNotReady,
  toServekitError,
} from './errors.js';
import { applyClassification } from './extensions/classification.js';
import { ModelStatisticsRegistry, type ModelStats } from './extensions/statistics.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from './limits.js';
import type { ServerMetrics } from './metrics.js';
import type { InferContext, Model, ModelMetadata, Protocol } from './model/model.js';
import type { ModelLease, ModelRepository } from './model/repository.js';
import { v2Response } from './model/v2-response.js';
import { type ModelMetricSeries, ModelMetricSeriesCache } from './model-metric-series.js';
import {
  type InferRequest,
  type InferResponse,
  isInferRequest,
  isInferResponse,
  type Payload,
  type Result,
  type V1Request,
  type V1Response,
} from './protocols/infer-types.js';
import { responseToV1 } from './protocols/v1-v2.js';
import type { SpanAttributes, TraceSpan } from './tracing/span.js';
import { inChildSpan, modelAttributes } from './tracing/stage-span.js';

/** Server metadata (`GET /v2`). */
export interface ServerMetadata {
  /** Server name. */
  name: string;
  /** Server version. */
  version: string;
  /** Supported protocol extensions. */
  extensions: string[];
}

/** Options of the DataPlane. */
export interface DataPlaneOptions {
  /** Metrics to record into. */
  metrics: ServerMetrics;
  /** Logger for access lines and model errors. */
  logger: Logger;
  /** Batching options for a model, or undefined to run it unbatched. */
  batching?: (modelName: string) => BatchingOptions | undefined;
  /** Log one line per inference request at info level. */
  accessLog?: boolean;
  /** Budgets of request decoding. Default {@link DEFAULT_REQUEST_LIMITS}. */
  limits?: RequestLimits;
  /** Admission control (concurrency caps, wait queue); off unless a cap is above 0. */
  admission?: AdmissionOptions;
}

/** `model_name` label of requests for names that are not registered (keeps metric cardinality bounded). */
export const UNKNOWN_MODEL_LABEL = '<unknown>';

/** servekit's version, reported by `GET /v2`. */
export const SERVER_VERSION = '0.1.0';

/**
 * The one transport-agnostic core: routing to models, readiness, the hook pipeline
 * (preprocess → [batcher] → predict → postprocess), errors, metrics and access logging.
 * REST V1, REST V2 and gRPC only decode the wire into calls here and encode the results.
 */
export class DataPlane {
  private draining = false;
  private starting = false;
  private admitting = true;
  /** One batcher per model instance: a reloaded model gets a new one, the old one finishes its queue first. */
  private readonly batchers = new Map<Model, Batcher>();
  private readonly batchMetrics: BatchMetrics;
  /** Concurrency caps and wait queues; undefined when admission control is off. */
  private readonly admissionControl?: AdmissionController;
  /** Budgets every transport's decoder checks before allocating. */
  readonly limits: RequestLimits;
  /** Per model (version) request counters: Triton's statistics extension. */
  readonly statistics = new ModelStatisticsRegistry();
  /** The per-model metric series, bound once per `model_name` label (no label hashing per request). */
  private readonly series: ModelMetricSeriesCache;

  constructor(
    readonly repository: ModelRepository,
    private readonly options: DataPlaneOptions,
  ) {
    this.batchMetrics = batchMetrics(options.metrics.registry);
    this.series = new ModelMetricSeriesCache(options.metrics);
    this.limits = options.limits ?? { ...DEFAULT_REQUEST_LIMITS };
    if (admissionEnabled(options.admission)) {
      this.admissionControl = new AdmissionController(options.admission, options.metrics.registry);
    }
    // A model is retired once no request holds it, so its batcher's queue is empty by then.
    repository.onRetire(async (model) => {
      const b = this.batchers.get(model);
      this.batchers.delete(model);
      await b?.close();
    });
  }

  /** The server's logger (internal failures are logged here, never sent to clients). */
  get logger(): Logger {
    return this.options.logger;
  }

  /** Liveness: the process answers. */
  live(): boolean {
    return true;
  }

  /**
   * Readiness: not starting up nor draining, no model still loading, and every readiness-gating model (a
   * health-checked transformer) ready.
   */
  ready(): boolean {
    return !this.starting && !this.draining && this.repository.readyToServe();
  }

  /** Server start: listening but the initial models are not loaded yet (not ready until {@link startupDone}). */
  startingUp(): void {
    this.starting = true;
  }

  /** Server start: the initial models were loaded (or failed to); readiness follows the repository again. */
  startupDone(): void {
    this.starting = false;
  }

  /**
   * Graceful shutdown, first step: readiness turns false (load balancers stop sending) while inference requests
   * are still answered, for the drain delay and for requests still arriving on open connections.
   */
  startDraining(): void {
    this.draining = true;
  }

  /** Graceful shutdown, last step: new inference requests get 503 with Retry-After (ServerNotReady). */
  stopAdmitting(): void {
    this.draining = true;
    this.admitting = false;
  }

  /** Close all batchers (queued requests fail with ServerNotReady). */
  async close(): Promise<void> {
    this.admissionControl?.close();
    await Promise.all([...this.batchers.values()].map((b) => b.close()));
    this.batchers.clear();
  }

  /** Server metadata with the supported extensions. */
  serverMetadata(): ServerMetadata {
    return { name: 'servekit', version: SERVER_VERSION, extensions: [...SERVER_EXTENSIONS] };
  }

  /** The dynamic batching options `name` runs with, or undefined when it runs unbatched. */
  batchingOptions(name: string): BatchingOptions | undefined {
    const opts = this.options.batching?.(name);
    return opts && opts.maxBatchSize > 1 ? opts : undefined;
  }

  /** V2 metadata of a model (its versions filled in). */
  modelMetadata(name: string, version?: string): ModelMetadata {
    const model = this.repository.getReady(name, version);
    const md = model.metadata();
    const versions = this.repository.versions(name);
    return { ...md, name, versions: versions.length > 0 ? versions : md.versions };
  }

  /** True when the model (version) is loaded and ready; false for an unknown version (Triton's answer). */
  modelReady(name: string, version?: string): boolean {
    if (!this.repository.names().includes(name)) throw new ModelNotFound(name);
    return this.repository.isReady(name, version);
  }

  /** Run a V2 request; the result is always a V2 response with the request's id and requested outputs. */
  async inferV2(
    name: string,
    version: string | undefined,
    request: InferRequest,
    ctx: InferContext,
  ): Promise<InferResponse> {
    // Inlined `track` (one async frame per request instead of three: this path runs for every V2 request).
    const series = this.series.of(this.requestLabel(name));
    const t0 = this.begin(series);
    let status = 200;
    try {
      applyTimeoutParameter(ctx, request.parameters);
      const lease = this.admit(name, version);
      const model = lease.model;
      let result: Result;
      try {
        checkInputNames(model, name, request);
        result = await this.pipeline(model, name, request, ctx, version);
      } finally {
        lease.release();
      }
      const res = v2Response(name, result, request, version);
      if (request.outputs && request.outputs.length > 0) applyClassification(res, request, model);
      return res;
    } catch (err) {
      const e = this.failed(name, err);
      status = e.status;
      throw e;
    } finally {
      this.end(series, ctx.protocol, status, t0, name);
    }
  }

  /** Run a V1 `:predict` body (or its columnar tensors, decoded); the result is always a V1 body. */
  async inferV1(name: string, body: V1Request | InferRequest, ctx: InferContext): Promise<V1Response> {
    const series = this.series.of(this.requestLabel(name));
    const t0 = this.begin(series);
    let status = 200;
    try {
      const lease = this.admit(name, undefined);
      let result: Result;
      try {
        if (isInferRequest(body)) checkInputNames(lease.model, name, body);
        result = await this.pipeline(lease.model, name, body, ctx);
      } finally {
        lease.release();
      }
      return isInferResponse(result) ? responseToV1(result) : result;
    } catch (err) {
      const e = this.failed(name, err);
      status = e.status;
      throw e;
    } finally {
      this.end(series, ctx.protocol, status, t0, name);
    }
  }

  /** Run a V1 `:explain` body. */
  async explain(name: string, body: V1Request | InferRequest, ctx: InferContext): Promise<V1Response> {
    return this.track(name, ctx.protocol, async () => {
      const lease = this.admit(name, undefined);
      try {
        const model = lease.model;
        if (!model.canExplain) throw new NotImplemented(`Model ${name} does not support explain.`);
        const labels = { model_name: name };
        const t0 = performance.now();
        const ac = this.admissionControl;
        const result = await (ac ? ac.run(name, ctx, async () => model.explain(body, ctx)) : model.explain(body, ctx));
        this.options.metrics.explain.observe(labels, secondsSince(t0));
        return isInferResponse(result) ? responseToV1(result) : result;
      } finally {
        lease.release();
      }
    });
  }

  /** The model, held for this request (it is not disposed by a reload or unload until released). */
  private admit(name: string, version: string | undefined): ModelLease {
    if (!this.admitting) throw new ServerNotReady('Server is shutting down.');
    return this.repository.acquire(name, version);
  }

  /** The hook pipeline, holding a concurrency slot when admission control is on (its wait is queue time). */
  private pipeline(model: Model, name: string, payload: Payload, ctx: InferContext, version?: string): Promise<Result> {
    const ac = this.admissionControl;
    if (!ac) return this.stages(model, name, payload, ctx, version);
    return this.admittedStages(ac, model, name, payload, ctx, version);
  }

  /** The hook pipeline in a concurrency slot (its closures here, not in {@link pipeline}: none on the plain path). */
  private admittedStages(
    ac: AdmissionController,
    model: Model,
    name: string,
    payload: Payload,
    ctx: InferContext,
    version?: string,
  ): Promise<Result> {
    const onWaited = (ms: number) => this.statistics.of(model).recordQueue(ms * 1e6);
    return ac.run(name, ctx, () => this.stages(model, name, payload, ctx, version), onWaited);
  }

  private async stages(
    model: Model,
    name: string,
    payload: Payload,
    ctx: InferContext,
    version?: string,
  ): Promise<Result> {
    const series = this.series.of(name);
    const stats = this.statistics.of(model);
    const start = performance.now();
    // With tracing on: preprocess, predict (unbatched; the batcher traces its own) and postprocess get child spans.
    const span = ctx.span;
    const attrs = span && modelAttributes(name, version);
    if (attrs) span?.setAttributes(attrs);
    try {
      // A hook answering synchronously (the base class's identity hooks) is not awaited: no promise, no tick.
      // (No closure in this function: the span paths make theirs in helpers, so a plain request allocates no context.)
      const preMaybe = span ? preprocessInSpan(span, ctx, attrs, model, payload) : model.preprocess(payload, ctx);
      const pre = isThenable(preMaybe) ? await preMaybe : preMaybe;
      const preEnd = performance.now();
      series.preprocess.observe((preEnd - start) / 1e3);
      const batcher = this.batcherFor(model, name, stats);
      let result: Result;
      let postStart: number;
      if (batcher || span) {
        result = batcher
          ? await batcher.submit(pre, ctx)
          : await this.predictInSpan(span as TraceSpan, ctx, attrs, model, pre, stats);
        postStart = performance.now();
      } else {
        // The plain path: `predict` inline (no closures, no promise of its own; a synchronous answer is not awaited).
        let out: Result | PromiseLike<Result>;
        try {
          out = model.predict(pre, ctx);
          if (isThenable(out)) out = await out;
        } catch (err) {
          this.series.of(model.name).predict.observe(secondsSince(preEnd));
          throw err;
        }
        result = out;
        postStart = performance.now();
        stats.recordExecution(1, (postStart - preEnd) * 1e6);
        this.series.of(model.name).predict.observe((postStart - preEnd) / 1e3);
      }
      const postMaybe = span ? postprocessInSpan(span, ctx, attrs, model, result) : model.postprocess(result, ctx);
      const post = isThenable(postMaybe) ? await postMaybe : postMaybe;
      const end = performance.now();
      series.postprocess.observe((end - postStart) / 1e3);
      stats.recordSuccess(
        end,
        (end - start) * 1e6,
        (preEnd - start) * 1e6,
        (postStart - preEnd) * 1e6,
        (end - postStart) * 1e6,
      );
      return post;
    } catch (err) {
      const end = performance.now();
      stats.recordFailure(end, (end - start) * 1e6);
      throw err;
    }
  }

  /** The model's `predict` (timed and counted, see {@link predict}) in a child span of the request's span. */
  private predictInSpan(
    span: TraceSpan,
    ctx: InferContext,
    attrs: SpanAttributes | undefined,
    model: Model,
    payload: Payload,
    stats: ModelStats,
  ): Promise<Result> {
    return inChildSpan(span, ctx, 'predict', attrs, (c) => this.predict(model, payload, c, stats, false));
  }

  /**
   * The model's `predict`, timed (the predict histogram) and counted as an execution of one request, or of the
   * payload's rows when `batched`. No async frame of its own: the model's promise is chained once (or its
   * synchronous result wrapped once).
   */
  private predict(
    model: Model,
    payload: Payload,
    ctx: InferContext,
    stats: ModelStats,
    batched: boolean,
  ): Promise<Result> {
    const t0 = performance.now();
    const observe = () => this.series.of(model.name).predict.observe(secondsSince(t0));
    const record = () => stats.recordExecution(batched ? payloadRows(payload) : 1, (performance.now() - t0) * 1e6);
    let out: Result | Promise<Result>;
    try {
      out = model.predict(payload, ctx);
    } catch (err) {
      observe();
      return Promise.reject(err);
    }
    if (!isThenable(out)) {
      record();
      observe();
      return Promise.resolve(out);
    }
    return out.then(
      (result) => {
        record();
        observe();
        return result;
      },
      (err: unknown) => {
        observe();
        throw err;
      },
    );
  }

  private batcherFor(model: Model, name: string, stats: ModelStats): Batcher | undefined {
    const opts = this.options.batching?.(name);
    if (!opts || opts.maxBatchSize <= 1) return undefined;
    let b = this.batchers.get(model);
    if (!b) {
      b = new Batcher(
        name,
        (p, c) => this.predict(model, p, c, stats, true),
        opts,
        this.batchMetrics,
        (waitedMs) => stats.recordQueue(waitedMs * 1e6),
      );
      this.batchers.set(model, b);
    }
    return b;
  }

  private async track<T>(name: string, protocol: Protocol, fn: () => Promise<T>): Promise<T> {
    const series = this.series.of(this.requestLabel(name));
    const t0 = this.begin(series);
    let status = 200;
    try {
      return await fn();
    } catch (err) {
      const e = this.failed(name, err);
      status = e.status;
      throw e;
    } finally {
      this.end(series, protocol, status, t0, name);
    }
  }

  /** The `model_name` label of a request: registered names only (request paths are client input: bounded series). */
  private requestLabel(name: string): string {
    return this.repository.has(name) ? name : UNKNOWN_MODEL_LABEL;
  }

  /** Start of a tracked request: in-flight gauge up, start time (`performance.now()`). */
  private begin(series: ModelMetricSeries): number {
    series.inFlight.inc();
    return performance.now();
  }

  /**
   * A tracked request failed: the error as a ServekitError. A model's own exception (not a ServekitError) is logged
   * whole and the client gets a 500 naming the model; a failure wrapping another (an in-process predictor's
   * exception) is logged with its cause.
   */
  private failed(name: string, err: unknown): ServekitError {
    const { logger } = this.options;
    const e: ServekitError = toServekitError(err, name);
    if (e !== err) logger.error({ model: name, err }, 'inference failed');
    else if (e.status >= 500 && e.status !== 503) {
      logger.error({ model: name, err: e.cause === undefined ? e.message : e }, 'inference failed');
    }
    return e;
  }

  /** End of a tracked request: in-flight gauge down, the request counted by status, the access line. */
  private end(series: ModelMetricSeries, protocol: Protocol, status: number, t0: number, name: string): void {
    const { logger, accessLog } = this.options;
    series.inFlight.dec();
    series.requestDone(protocol, status);
    if (accessLog) logger.info({ model: name, protocol, status, ms: performance.now() - t0 }, 'inference');
  }
}

/** The model's `preprocess` in a child span of the request's span. */
function preprocessInSpan(
  span: TraceSpan,
  ctx: InferContext,
  attrs: SpanAttributes | undefined,
  model: Model,
  payload: Payload,
): Promise<Payload> {
  return inChildSpan(span, ctx, 'preprocess', attrs, (c) => model.preprocess(payload, c));
}

/** The model's `postprocess` in a child span of the request's span. */
function postprocessInSpan(
  span: TraceSpan,
  ctx: InferContext,
  attrs: SpanAttributes | undefined,
  model: Model,
  result: Result,
): Promise<Result> {
  return inChildSpan(span, ctx, 'postprocess', attrs, (c) => model.postprocess(result, c));
}

/** True when `v` is a promise (or any thenable) to await, false for a value a hook returned synchronously. */
function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** Protocol extensions servekit implements, Triton's names (`GET /v2`, gRPC ServerMetadata). */
export const SERVER_EXTENSIONS: readonly string[] = [
  'binary_tensor_data',
  'classification',
  'model_configuration',
  'model_repository',
  'statistics',
];

/** Rows of a (merged) payload the batcher runs: dim 0 of the first input, or the V1 instances. */
function payloadRows(payload: Payload): number {
  if (isInferRequest(payload)) return payload.inputs[0]?.shape[0] ?? 1;
  const instances = (payload as V1Request).instances;
  return Array.isArray(instances) ? instances.length : 1;
}

/**
 * Check a request's input names: no name twice and, when the model declares two or more inputs, none it does not
 * declare (400 naming the input and listing the model's). A model declaring one input (or none) takes any name,
 * as KServe clients send `input-0`.
 */
function checkInputNames(model: Model, name: string, request: InferRequest): void {
  const inputs = request.inputs;
  if (inputs.length === 0) return;
  if (inputs.length > 1) {
    const seen = new Set<string>();
    for (const t of inputs) {
      if (seen.has(t.name)) throw new InvalidInput(`Input "${clip(t.name)}" appears more than once in the request.`);
      seen.add(t.name);
    }
  }
  let declared: readonly { name: string }[];
  try {
    declared = model.metadata().inputs;
  } catch {
    return; // a model whose metadata is not available yet checks its own inputs
  }
  if (declared.length < 2) return;
  const unknown = inputs.find((t) => !declared.some((m) => m.name === t.name));
  if (unknown) {
    throw new InvalidInput(
      `Model ${clip(name)} has no input "${clip(unknown.name)}" (its inputs: ${declared.map((m) => clip(m.name, 100)).join(', ')}).`,
    );
  }
}

/** Seconds since `t0` (a `performance.now()` reading). */
function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1e3;
}
