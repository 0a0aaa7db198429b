import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Buckets (seconds) for per-stage latency histograms: 0.1 ms … 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The server's Prometheus metrics (KServe's names for the per-stage histograms). */
export interface ServerMetrics {
  /** The registry `/metrics` renders. */
  registry: Registry;
  /** `request_preprocess_seconds{model_name}`. */
  preprocess: Histogram<'model_name'>;
  /** `request_predict_seconds{model_name}`. */
  predict: Histogram<'model_name'>;
  /** `request_postprocess_seconds{model_name}`. */
  postprocess: Histogram<'model_name'>;
  /** `request_explain_seconds{model_name}`. */
  explain: Histogram<'model_name'>;
  /** `servekit_requests_total{model_name,protocol,status}`. */
  requests: Counter<'model_name' | 'protocol' | 'status'>;
  /** `servekit_requests_in_flight{model_name}`. */
  inFlight: Gauge<'model_name'>;
}

/** Create the server metrics in a fresh registry (with Node's default process metrics unless disabled). */
export function createServerMetrics(options: { defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const hist = (name: string, help: string) =>
    new Histogram({
      name,
      help,
      labelNames: ['model_name'] as const,
      buckets: [...LATENCY_BUCKETS],
      registers: [registry],
    });
  return {
    registry,
    preprocess: hist('request_preprocess_seconds', 'pre-process request latency'),
    predict: hist('request_predict_seconds', 'predict request latency'),
    postprocess: hist('request_postprocess_seconds', 'post-process request latency'),
    explain: hist('request_explain_seconds', 'explain request latency'),
    requests: new Counter({
      name: 'servekit_requests_total',
      help: 'inference requests by model, protocol and status code',
      labelNames: ['model_name', 'protocol', 'status'] as const,
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'servekit_requests_in_flight',
      help: 'inference requests being processed',
      labelNames: ['model_name'] as const,
      registers: [registry],
    }),
  };
}
