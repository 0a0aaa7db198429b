import { authFromFlags } from '../auth/auth-flags.js';
import { type BatchingOptions, validateBatchingOptions } from '../batching/batcher.js';
import type { ServerFlags } from './flags.js';
import type { ModelServerOptions } from './model-server.js';

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
    auth: authFromFlags(flags),
  };
}
