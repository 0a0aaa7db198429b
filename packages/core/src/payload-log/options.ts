import type { RetryPolicy } from '../retry.js';

/** What is logged (KServe's `logger.mode`): requests and responses, requests only, or responses only. */
export const LOG_MODES = ['all', 'request', 'response'] as const;

/** One of {@link LOG_MODES}. */
export type LogMode = (typeof LOG_MODES)[number];

/** Options of payload logging: where each inference request and response is POSTed as a CloudEvent. */
export interface PayloadLogOptions {
  /** The receiver's URL (KServe's `logger.url`); every event is POSTed to it in CloudEvents HTTP binary mode. */
  url: string;
  /** What is logged. Default `all`. */
  mode?: LogMode;
  /** Request header names (any case) copied into the `ce-metadata` extension (KServe's `logger.metadataHeaders`). */
  metadataHeaders?: readonly string[];
  /** `ce-source`. Default `http://localhost:<http port>/` (KServe's agent default, with servekit's HTTP port). */
  source?: string;
  /** `ce-inferenceservicename` (KServe: the pod's `serving.kserve.io/inferenceservice` label). Omitted when empty. */
  inferenceService?: string;
  /** `ce-namespace` (KServe: the pod's namespace). Omitted when empty. */
  namespace?: string;
  /** `ce-component`. Default `transformer` when a served model is a Transformer, else `predictor`. */
  component?: string;
  /** `ce-endpoint` (KServe: `default` or `canary`). Omitted when empty. */
  endpoint?: string;
  /** Events waiting to be sent; when full, new events are dropped and counted. Default 1024. */
  queueSize?: number;
  /** Events sent at once (KServe's agent `--workers`). Default 5. */
  senders?: number;
  /** Retries of one event on a 5xx answer, a timeout or a connection error. Default 3 retries from 100 ms to 2 s. */
  retry?: RetryPolicy;
  /** Longest wait for the receiver's answer to one POST, in ms. Default 5000. */
  timeoutMs?: number;
}

/** Default of {@link PayloadLogOptions.queueSize}. */
export const DEFAULT_LOG_QUEUE_SIZE = 1024;

/** Default of {@link PayloadLogOptions.senders}. */
export const DEFAULT_LOG_SENDERS = 5;

/** Default of {@link PayloadLogOptions.retry}. */
export const DEFAULT_LOG_RETRY: RetryPolicy = { retries: 3, backoffMs: 100, maxBackoffMs: 2000 };

/** Default of {@link PayloadLogOptions.timeoutMs}. */
export const DEFAULT_LOG_TIMEOUT_MS = 5000;
