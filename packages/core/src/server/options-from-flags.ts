import {
  type AdmissionOptions,
  admissionEnabled,
  validateAdmissionOptions,
} from '../admission/admission-controller.js';
import { authFromFlags } from '../auth/auth-flags.js';
import { type BatchingOptions, validateBatchingOptions } from '../batching/batcher.js';
import type { PayloadLogOptions } from '../payload-log/options.js';
import { tracingEnabled } from '../tracing/start-tracing.js';
import type { ServerFlags } from './flags.js';
import type { ModelServerOptions } from './model-server.js';
import { checkTlsOptions, type TlsOptions } from './tls.js';

/** Batching options from the `--max_batch_size …` flags; undefined when batching is off (max_batch_size ≤ 1). */
export function batchingFromFlags(flags: ServerFlags): BatchingOptions | undefined {
  const maxBatchSize = flags.max_batch_size;
  if (!(maxBatchSize > 1)) return undefined;
  const opts: BatchingOptions = {
    maxBatchSize,
    maxLatencyMs: flags.max_latency_ms,
    maxQueueSize: flags.max_queue_size,
    maxInflightBatches: flags.max_inflight_batches,
    timeoutMs: flags.batch_timeout_ms,
  };
  const preferred = flags.preferred_batch_sizes;
  if (preferred && preferred.length > 0) opts.preferredBatchSizes = preferred;
  // Bad batching flags stop the server at startup instead of failing every request later.
  validateBatchingOptions('(all models, from flags)', opts);
  return opts;
}

/** Admission control options from `--max_concurrent_requests…`; undefined when both caps are 0 (off). */
export function admissionFromFlags(flags: ServerFlags): AdmissionOptions | undefined {
  const opts: AdmissionOptions = {
    maxConcurrentRequests: flags.max_concurrent_requests,
    maxConcurrentRequestsTotal: flags.max_concurrent_requests_total,
    maxQueueSize: flags.max_queue_size,
  };
  // Bad flags stop the server at startup instead of failing every request later.
  validateAdmissionOptions(opts);
  return admissionEnabled(opts) ? opts : undefined;
}

/** Payload-log options from the `--log_*` flags; undefined when `--log_url` is unset (logging off). */
export function payloadLogFromFlags(flags: ServerFlags): PayloadLogOptions | undefined {
  if (!flags.log_url) return undefined;
  return {
    url: flags.log_url,
    mode: flags.log_mode,
    metadataHeaders: (flags.log_headers ?? '').split(',').filter((h) => h.trim() !== ''),
    source: flags.log_source || undefined,
    inferenceService: flags.log_inference_service,
    namespace: flags.log_namespace,
    component: flags.log_component || undefined,
    endpoint: flags.log_endpoint,
    queueSize: flags.log_queue_size,
    senders: flags.log_senders,
  };
}

/** ModelServer options from the flags of SERVER_FLAGS (parsed by `parseFlags`). */
export function serverOptionsFromFlags(flags: ServerFlags): ModelServerOptions {
  return {
    httpPort: flags.http_port,
    grpcPort: flags.grpc_port,
    host: flags.host,
    enableGrpc: flags.enable_grpc,
    workers: flags.workers,
    maxBodySize: flags.max_body_size,
    limits: {
      maxDecodedBytes: flags.max_decoded_bytes,
      maxJsonDepth: flags.max_json_depth,
      maxJsonBodySize: flags.max_json_body_size,
    },
    grpcMaxMessageSize: flags.grpc_max_message_size,
    logLevel: flags.log_level,
    accessLog: flags.enable_access_log,
    enableDocsUrl: flags.enable_docs_url,
    gracePeriodMs: flags.grace_period_seconds * 1000,
    drainDelayMs: flags.drain_delay_seconds * 1000,
    requestTimeoutMs: flags.request_timeout_seconds * 1000,
    healthPort: flags.health_port,
    batching: batchingFromFlags(flags),
    admission: admissionFromFlags(flags),
    payloadLog: payloadLogFromFlags(flags),
    tls: tlsFromFlags(flags),
    tracing: tracingEnabled(flags.enable_tracing, process.env),
    auth: authFromFlags(flags),
  };
}

/** TLS options from `--tls_cert_file`, `--tls_key_file`, `--tls_client_ca_file`; undefined when TLS is off. */
export function tlsFromFlags(flags: ServerFlags): TlsOptions | undefined {
  const { tls_cert_file: certFile, tls_key_file: keyFile, tls_client_ca_file: clientCaFile } = flags;
  const reloadIntervalMs = flags.tls_reload_seconds * 1000;
  // A lone key or CA file is a mistake to report, not a reason to serve plain HTTP.
  checkTlsOptions({ certFile, keyFile, clientCaFile, reloadIntervalMs });
  if (!certFile || !keyFile) return undefined;
  return clientCaFile ? { certFile, keyFile, clientCaFile, reloadIntervalMs } : { certFile, keyFile, reloadIntervalMs };
}
