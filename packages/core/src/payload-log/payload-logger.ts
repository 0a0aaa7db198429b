import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ModelRepository } from '../model/repository.js';
import { Transformer } from '../model/transformer.js';
import {
  eventIdOf,
  type MetadataHeader,
  metadataHeaders,
  metadataOf,
  type PayloadKind,
  type RequestHeaders,
} from './cloud-event.js';
import { EventDelivery } from './delivery.js';
import { createPayloadLogMetrics } from './metrics.js';
import {
  DEFAULT_LOG_QUEUE_SIZE,
  DEFAULT_LOG_RETRY,
  DEFAULT_LOG_SENDERS,
  DEFAULT_LOG_TIMEOUT_MS,
  type PayloadLogOptions,
} from './options.js';

/** What a transport keeps of a logged request until its response: the event id and the metadata. */
export interface LoggedRequest {
  /** `ce-id` of the request and its response. */
  id: string;
  /** `ce-metadata` of both. */
  metadata: string;
}

/** `ce-component` when none is given: `transformer` when a served model is a Transformer, else `predictor`. */
export function defaultComponent(repository: ModelRepository): string {
  const isTransformer = repository.names().some((name) => repository.get(name) instanceof Transformer);
  return isTransformer ? 'transformer' : 'predictor';
}

/** Check the options at startup: a bad URL or size stops the server instead of failing every event later. */
function checkOptions(options: PayloadLogOptions): void {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new Error(`--log_url: "${options.url}" is not a URL (e.g. http://message-dumper.default/).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`--log_url: expected an http:// or https:// URL, got "${options.url}".`);
  }
  for (const [flag, v] of [
    ['--log_queue_size', options.queueSize],
    ['--log_senders', options.senders],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      throw new Error(`${flag}: expected an integer ≥ 1, got ${v}.`);
  }
}

/**
 * Payload logging with KServe's semantics: each inference request and response becomes a CloudEvent POSTed to the
 * receiver in HTTP binary mode (`ce-*` headers, the exact body bytes with their content type), from a bounded
 * queue that never holds inference up. The transports call `request` when a request arrives and `response` when
 * its 200 answer is sent; only a configured server creates one.
 */
export class PayloadLogger {
  /** The queue and senders. */
  readonly delivery: EventDelivery;
  private readonly logsRequests: boolean;
  private readonly logsResponses: boolean;
  private readonly wanted: MetadataHeader[];

  constructor(options: PayloadLogOptions, registry: Registry, logger: Logger, defaultComponent: string) {
    checkOptions(options);
    const mode = options.mode ?? 'all';
    this.logsRequests = mode !== 'response';
    this.logsResponses = mode !== 'request';
    this.wanted = metadataHeaders(options.metadataHeaders ?? []);
    this.delivery = new EventDelivery(
      {
        url: options.url,
        queueSize: options.queueSize ?? DEFAULT_LOG_QUEUE_SIZE,
        senders: options.senders ?? DEFAULT_LOG_SENDERS,
        retry: options.retry ?? DEFAULT_LOG_RETRY,
        timeoutMs: options.timeoutMs ?? DEFAULT_LOG_TIMEOUT_MS,
      },
      {
        source: options.source ?? '',
        inferenceService: options.inferenceService ?? '',
        namespace: options.namespace ?? '',
        component: options.component || defaultComponent,
        endpoint: options.endpoint ?? '',
      },
      createPayloadLogMetrics(registry),
      logger,
    );
  }

  /** Set `ce-source` to KServe's default, `http://localhost:<port>/`, unless one was given. */
  listeningOn(httpPort: number): void {
    if (this.delivery.attributes.source === '') this.delivery.attributes.source = `http://localhost:${httpPort}/`;
  }

  /** Log a request that arrived with `headers`, `body` and `contentType`; returns what its response event needs. */
  request(headers: RequestHeaders, contentType: string | undefined, body: Uint8Array | string): LoggedRequest {
    const logged: LoggedRequest = { id: eventIdOf(headers), metadata: metadataOf(headers, this.wanted) };
    if (this.logsRequests) this.enqueue('request', logged, contentType, body);
    return logged;
  }

  /** Log the 200 response of a logged request: its exact `body` and `contentType`. */
  response(logged: LoggedRequest, contentType: string | undefined, body: Uint8Array | string): void {
    if (this.logsResponses) this.enqueue('response', logged, contentType, body);
  }

  /** Send what is queued, within `deadline` (epoch ms); see {@link EventDelivery.close}. */
  close(deadline: number): Promise<void> {
    return this.delivery.close(deadline);
  }

  private enqueue(
    kind: PayloadKind,
    logged: LoggedRequest,
    contentType: string | undefined,
    body: Uint8Array | string,
  ) {
    const { id, metadata } = logged;
    this.delivery.enqueue({ kind, id, time: new Date().toISOString(), contentType, body, metadata });
  }
}
