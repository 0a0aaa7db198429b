import { Counter, type Registry } from 'prom-client';
import type { PayloadKind } from './cloud-event.js';

/** The payload logger's Prometheus counters (registered only when payload logging is on). */
export interface PayloadLogMetrics {
  /** `servekit_payload_log_sent_total{type}`: events the receiver accepted (2xx), by `request` / `response`. */
  sent: Counter<'type'>;
  /** `servekit_payload_log_failed_total`: events given up after their retries (or refused with a 4xx). */
  failed: Counter;
  /** `servekit_payload_log_dropped_total`: events dropped because the queue was full (or still queued at shutdown). */
  dropped: Counter;
}

/** Create the payload-log counters in `registry`. */
export function createPayloadLogMetrics(registry: Registry): PayloadLogMetrics {
  const sent = new Counter({
    name: 'servekit_payload_log_sent_total',
    help: 'payload log events delivered to the log receiver, by type (request, response)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  for (const type of ['request', 'response'] satisfies PayloadKind[]) sent.inc({ type }, 0);
  return {
    sent,
    failed: new Counter({
      name: 'servekit_payload_log_failed_total',
      help: 'payload log events not delivered after their retries',
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'servekit_payload_log_dropped_total',
      help: 'payload log events dropped because the send queue was full',
      registers: [registry],
    }),
  };
}
