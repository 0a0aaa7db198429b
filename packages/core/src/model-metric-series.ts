/**
 * The server metrics' series of each `model_name` label, bound once per name (see metric-series.ts): the dataplane's
 * per-request updates (stage histograms, request counter, in-flight gauge) write them in place.
 */
import { CounterSeries, GaugeSeries, HistogramSeries } from './metric-series.js';
import { LATENCY_BUCKETS, type ServerMetrics } from './metrics.js';
import type { Protocol } from './model/model.js';

/** Most names kept; past it the cache starts over (the names reaching it are registered ones or `<unknown>`). */
const MAX_NAMES = 1024;

/** The series of one `model_name` label. */
export class ModelMetricSeries {
  /** `request_preprocess_seconds{model_name}`. */
  readonly preprocess: HistogramSeries;
  /** `request_predict_seconds{model_name}`. */
  readonly predict: HistogramSeries;
  /** `request_postprocess_seconds{model_name}`. */
  readonly postprocess: HistogramSeries;
  /** `servekit_requests_in_flight{model_name}`. */
  readonly inFlight: GaugeSeries;
  /** `servekit_requests_total{model_name,protocol,status}`, by protocol and status code, made on first use. */
  private readonly requests = new Map<Protocol, Map<number, CounterSeries>>();

  constructor(
    private readonly metrics: ServerMetrics,
    private readonly name: string,
  ) {
    const labels = { model_name: name };
    this.preprocess = new HistogramSeries(metrics.preprocess, labels, LATENCY_BUCKETS);
    this.predict = new HistogramSeries(metrics.predict, labels, LATENCY_BUCKETS);
    this.postprocess = new HistogramSeries(metrics.postprocess, labels, LATENCY_BUCKETS);
    this.inFlight = new GaugeSeries(metrics.inFlight, labels);
  }

  /** Count one answered request of `protocol` with HTTP `status`. */
  requestDone(protocol: Protocol, status: number): void {
    let byStatus = this.requests.get(protocol);
    if (!byStatus) {
      byStatus = new Map();
      this.requests.set(protocol, byStatus);
    }
    let series = byStatus.get(status);
    if (!series) {
      series = new CounterSeries(this.metrics.requests, { model_name: this.name, protocol, status: String(status) });
      byStatus.set(status, series);
    }
    series.inc();
  }
}

/** {@link ModelMetricSeries} by `model_name` label, made on first use. */
export class ModelMetricSeriesCache {
  private readonly byName = new Map<string, ModelMetricSeries>();

  constructor(private readonly metrics: ServerMetrics) {}

  /** The series of label `name` (a registered model name or the unknown-model label: bounded by the caller). */
  of(name: string): ModelMetricSeries {
    let s = this.byName.get(name);
    if (!s) {
      if (this.byName.size >= MAX_NAMES) this.byName.clear();
      s = new ModelMetricSeries(this.metrics, name);
      this.byName.set(name, s);
    }
    return s;
  }
}
