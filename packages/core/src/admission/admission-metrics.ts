import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a request left the admission queue without running (the `reason` label). */
export type AdmissionRejectReason = 'queue_full' | 'deadline' | 'cancelled' | 'shutdown';

/** Per-model counts the gauges read when `/metrics` is scraped (no cost per request). */
export interface AdmissionCounts {
  /** Model name. */
  readonly name: string;
  /** Requests waiting for a slot. */
  readonly waiting: number;
  /** Requests holding a slot. */
  readonly running: number;
}

/** Admission control metrics (created only when admission control is on). */
export interface AdmissionMetrics {
  /** `servekit_admission_queue_depth{model_name}`: requests waiting for a slot, read at scrape time. */
  queueDepth: Gauge<'model_name'>;
  /** `servekit_admission_running{model_name}`: requests holding a slot, read at scrape time. */
  running: Gauge<'model_name'>;
  /** `servekit_admission_rejected_total{model_name,reason}`: requests refused or dropped before running. */
  rejected: Counter<'model_name' | 'reason'>;
}

/** Create the admission metrics (`servekit_admission_*`) in `registry`; the gauges read `counts()` when scraped. */
export function admissionMetrics(registry: Registry, counts: () => Iterable<AdmissionCounts>): AdmissionMetrics {
  return {
    queueDepth: new Gauge({
      name: 'servekit_admission_queue_depth',
      help: 'requests waiting for a concurrency slot (admission control)',
      labelNames: ['model_name'] as const,
      registers: [registry],
      collect() {
        for (const c of counts()) this.set({ model_name: c.name }, c.waiting);
      },
    }),
    running: new Gauge({
      name: 'servekit_admission_running',
      help: 'requests holding a concurrency slot (admission control)',
      labelNames: ['model_name'] as const,
      registers: [registry],
      collect() {
        for (const c of counts()) this.set({ model_name: c.name }, c.running);
      },
    }),
    rejected: new Counter({
      name: 'servekit_admission_rejected_total',
      help: 'requests refused or dropped by admission control before running (queue_full, deadline, cancelled, shutdown)',
      labelNames: ['model_name', 'reason'] as const,
      registers: [registry],
    }),
  };
}
