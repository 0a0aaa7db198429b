import { type BatchingOptions, validateBatchingOptions } from '../batching/batcher.js';
import type { ParsedFlags } from '../cli/args.js';
import type { ModelServerOptions } from './model-server.js';

/** Batching options from the `--max_batch_size …` flags; undefined when batching is off (max_batch_size ≤ 1). */
export function batchingFromFlags(flags: ParsedFlags): BatchingOptions | undefined {
  const maxBatchSize = flags.max_batch_size as number;
  if (!(maxBatchSize > 1)) return undefined;
  const opts: BatchingOptions = {
    maxBatchSize,
    maxLatencyMs: flags.max_latency_ms as number,
    maxQueueSize: flags.max_queue_size as number,
    maxInflightBatches: flags.max_inflight_batches as number,
    timeoutMs: flags.batch_timeout_ms as number,
  };
  const preferred = flags.preferred_batch_sizes as number[] | undefined;
  if (preferred && preferred.length > 0) opts.preferredBatchSizes = preferred;
  // Bad batching flags stop the server at startup instead of failing every request later.
  validateBatchingOptions('(all models, from flags)', opts);
  return opts;
}

/** ModelServer options from the flags of SERVER_FLAGS (parsed by `parseFlags`). */
export function serverOptionsFromFlags(flags: ParsedFlags): ModelServerOptions {
  return {
    httpPort: flags.http_port as number,
    grpcPort: flags.grpc_port as number,
    host: flags.host as string,
    enableGrpc: flags.enable_grpc as boolean,
    workers: flags.workers as number,
    maxBodySize: flags.max_body_size as number,
    limits: {
      maxDecodedBytes: flags.max_decoded_bytes as number,
      maxJsonDepth: flags.max_json_depth as number,
      maxJsonBodySize: flags.max_json_body_size as number,
    },
    grpcMaxMessageSize: flags.grpc_max_message_size as number,
    logLevel: flags.log_level as string,
    accessLog: flags.enable_access_log as boolean,
    enableDocsUrl: flags.enable_docs_url as boolean,
    gracePeriodMs: (flags.grace_period_seconds as number) * 1000,
    drainDelayMs: (flags.drain_delay_seconds as number) * 1000,
    requestTimeoutMs: (flags.request_timeout_seconds as number) * 1000,
    healthPort: flags.health_port as number | undefined,
    batching: batchingFromFlags(flags),
  };
}
