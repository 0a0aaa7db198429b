/**
 * Triton's statistics extension: per model (version) counters collected on the dataplane's request path
 * (a few number adds per request, no allocation once a model's record exists) and reported in Triton's shape
 * (`GET /v2/models/stats`, gRPC `ModelStatistics`).
 *
 * What servekit measures: `success`/`fail` the request's time from admission to its answer; `compute_input`
 * the model's `preprocess`; `compute_infer` the model's `predict` (with the batcher: the request's time in the
 * batcher less its queue time); `compute_output` the model's `postprocess`; `queue` the time waiting in the
 * dynamic batcher. `inference_count` counts rows when the batcher runs the model, else requests;
 * `execution_count` counts model executions. `batch_stats` times `predict` per executed batch size (servekit has no
 * separate input/output staging per batch: their counts and times are 0). Cache statistics are always 0 (no cache).
 */
import { performance } from 'node:perf_hooks';
import type { Model } from '../model/model.js';
import type { ModelRepository } from '../model/repository.js';

/** `{count, ns}`: how many and their cumulative nanoseconds. */
export interface StatisticDuration {
  /** Number of occurrences. */
  count: number;
  /** Cumulative duration in nanoseconds. */
  ns: number;
}

/** Triton's `InferStatistics`. */
export interface InferStatistics {
  /** Successful requests, end to end. */
  success: StatisticDuration;
  /** Failed requests, end to end. */
  fail: StatisticDuration;
  /** Time waiting in the batcher's queue. */
  queue: StatisticDuration;
  /** Time in `preprocess`. */
  compute_input: StatisticDuration;
  /** Time in `predict`. */
  compute_infer: StatisticDuration;
  /** Time in `postprocess`. */
  compute_output: StatisticDuration;
  /** Response cache hits (servekit has no cache: always 0). */
  cache_hit: StatisticDuration;
  /** Response cache misses (always 0). */
  cache_miss: StatisticDuration;
}

/** Triton's `InferBatchStatistics`: executions of one batch size. */
export interface InferBatchStatistics {
  /** Rows of the executed batch. */
  batch_size: number;
  /** Not measured per batch by servekit (0). */
  compute_input: StatisticDuration;
  /** `predict` executions of this size and their time. */
  compute_infer: StatisticDuration;
  /** Not measured per batch by servekit (0). */
  compute_output: StatisticDuration;
}

/** Triton's `ModelStatistics` (REST JSON and gRPC message alike). */
export interface ModelStatisticsReport {
  /** Model name. */
  name: string;
  /** Version ('' for an unversioned model). */
  version: string;
  /** Milliseconds since the epoch of the last request (0: none yet). */
  last_inference: number;
  /** Inferences run (rows when batched). */
  inference_count: number;
  /** Model executions. */
  execution_count: number;
  /** Per-request durations. */
  inference_stats: InferStatistics;
  /** Per-batch-size executions, by ascending batch size. */
  batch_stats: InferBatchStatistics[];
}

class Duration {
  count = 0;
  ns = 0;

  add(ns: number): void {
    this.count++;
    this.ns += ns;
  }

  report(): StatisticDuration {
    return { count: this.count, ns: Math.round(this.ns) };
  }
}

const ZERO = (): StatisticDuration => ({ count: 0, ns: 0 });

/** The counters of one model (version). */
export class ModelStats {
  inferenceCount = 0;
  executionCount = 0;
  /** `performance.now()` at the end of the last request (a monotonic reading: no clock call per request). */
  private lastEnd?: number;
  private readonly success = new Duration();
  private readonly fail = new Duration();
  private readonly queue = new Duration();
  private readonly computeInput = new Duration();
  /** Time from entering predict (or the batcher) to its answer, queue included; the queue is subtracted on report. */
  private readonly computeInferWithQueue = new Duration();
  private readonly computeOutput = new Duration();
  private readonly batches = new Map<number, Duration>();

  /** A request answered at `end` (`performance.now()`): its total time and the time of each stage, in ns. */
  recordSuccess(end: number, totalNs: number, inputNs: number, inferNs: number, outputNs: number): void {
    this.lastEnd = end;
    this.success.add(totalNs);
    this.computeInput.add(inputNs);
    this.computeInferWithQueue.add(inferNs);
    this.computeOutput.add(outputNs);
  }

  /** A request failed after admission, at `end` (`performance.now()`). */
  recordFailure(end: number, totalNs: number): void {
    this.lastEnd = end;
    this.fail.add(totalNs);
  }

  /** A request left the batcher's queue after `ns`. */
  recordQueue(ns: number): void {
    this.queue.add(ns);
  }

  /** One execution of `predict` over `rows` inferences. */
  recordExecution(rows: number, ns: number): void {
    this.executionCount++;
    this.inferenceCount += rows;
    let b = this.batches.get(rows);
    if (!b) {
      b = new Duration();
      this.batches.set(rows, b);
    }
    b.add(ns);
  }

  /** Milliseconds since the epoch of the last request: now, less the monotonic time elapsed since it (0: none). */
  lastInferenceMs(): number {
    if (this.lastEnd === undefined) return 0;
    return Math.round(Date.now() - (performance.now() - this.lastEnd));
  }

  /** Triton's `ModelStatistics` for this record. */
  report(name: string, version: string): ModelStatisticsReport {
    const infer = this.computeInferWithQueue.report();
    infer.ns = Math.max(0, infer.ns - Math.round(this.queue.ns));
    return {
      name,
      version,
      last_inference: this.lastInferenceMs(),
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: this.success.report(),
        fail: this.fail.report(),
        queue: this.queue.report(),
        compute_input: this.computeInput.report(),
        compute_infer: infer,
        compute_output: this.computeOutput.report(),
        cache_hit: ZERO(),
        cache_miss: ZERO(),
      },
      batch_stats: [...this.batches.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([size, d]) => ({
          batch_size: size,
          compute_input: ZERO(),
          compute_infer: d.report(),
          compute_output: ZERO(),
        })),
    };
  }
}

/** The statistics of every served model instance; a reloaded (new) instance starts from zero. */
export class ModelStatisticsRegistry {
  private readonly byModel = new WeakMap<Model, ModelStats>();

  /** The counters of `model`, created on first use. */
  of(model: Model): ModelStats {
    let s = this.byModel.get(model);
    if (!s) {
      s = new ModelStats();
      this.byModel.set(model, s);
    }
    return s;
  }

  /**
   * Triton's `model_stats` list: every model (version) of the repository, or those of `name` (and `version`).
   * Throws ModelNotFound for an unknown name or version.
   */
  report(repository: ModelRepository, name?: string, version?: string): ModelStatisticsReport[] {
    if (name && version)
      repository.get(name, version); // 404 for an unknown version
    else if (name) repository.get(name);
    const rows = repository
      .index()
      .filter((r) => (!name || r.name === name) && (!version || r.version === version))
      .filter((r) => Boolean(name) || r.state === 'READY');
    return rows.map((r) => {
      const model = repository.get(r.name, r.version);
      const stats = this.byModel.get(model) ?? new ModelStats();
      return stats.report(r.name, r.version ?? '');
    });
  }
}
