import { randomUUID } from 'node:crypto';

/** `ce-type` of a logged inference request (KServe's `CEInferenceRequest`). */
export const CE_REQUEST_TYPE = 'org.kubeflow.serving.inference.request';

/** `ce-type` of a logged inference response (KServe's `CEInferenceResponse`). */
export const CE_RESPONSE_TYPE = 'org.kubeflow.serving.inference.response';

/** Whether an event carries a request or a response (the `type` label of the payload-log metrics). */
export type PayloadKind = 'request' | 'response';

/** Headers of one request as the transports see them (node's `IncomingHttpHeaders`, gRPC metadata). */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The attributes shared by every event of one server: KServe's agent flags. */
export interface EventAttributes {
  /** `ce-source`. */
  source: string;
  /** `ce-inferenceservicename`; omitted when empty. */
  inferenceService: string;
  /** `ce-namespace`; omitted when empty. */
  namespace: string;
  /** `ce-component`; omitted when empty. */
  component: string;
  /** `ce-endpoint`; omitted when empty. */
  endpoint: string;
}

/** One logged request or response, waiting to be sent. */
export interface PayloadEvent {
  /** Request or response. */
  kind: PayloadKind;
  /** `ce-id`: shared by a request and its response. */
  id: string;
  /** `ce-time`: when the request arrived or the response was sent (RFC 3339). */
  time: string;
  /** The body's media type (`Content-Type` of the POST); undefined when the request had none. */
  contentType: string | undefined;
  /** The exact bytes of the request or response (a string is sent as its UTF-8 bytes, as the server sent it). */
  body: Uint8Array | string;
  /** `ce-metadata`: the JSON of the chosen request headers, `{"Name": ["value", …]}`. */
  metadata: string;
}

/**
 * The event id of a request, as KServe's agent chooses it: the request's `ce-id` header, else (servekit's request
 * id) its `x-request-id` header, else a fresh UUID.
 */
export function eventIdOf(headers: RequestHeaders): string {
  for (const name of ['ce-id', 'x-request-id']) {
    const v = headers[name];
    const first = typeof v === 'string' ? v : v?.[0];
    if (first) return first;
  }
  return randomUUID();
}

/** A header name as Go's `textproto.CanonicalMIMEHeaderKey` writes it (`x-user-id` → `X-User-Id`), as KServe keys metadata. */
export function canonicalHeaderName(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => (part === '' ? part : part[0]!.toUpperCase() + part.slice(1)))
    .join('-');
}

/** A request header copied into `ce-metadata`: its lower-case name and the key it is written under. */
export interface MetadataHeader {
  /** The name as node and grpc-js give it (lower case). */
  name: string;
  /** The canonical name it is keyed by in `ce-metadata`. */
  key: string;
}

/** The metadata headers of `names` (any case, blanks ignored), in the order Go writes map keys (sorted by key). */
export function metadataHeaders(names: readonly string[]): MetadataHeader[] {
  const byKey = new Map<string, MetadataHeader>();
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    if (name !== '') byKey.set(canonicalHeaderName(name), { name, key: canonicalHeaderName(name) });
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * `ce-metadata` of a request: the JSON object of the `wanted` headers it carries, keyed by canonical name, each with
 * the list of its values (KServe's `map[string][]string`); `{}` when none is present.
 */
export function metadataOf(headers: RequestHeaders, wanted: readonly MetadataHeader[]): string {
  const metadata: Record<string, string[]> = {};
  for (const { name, key } of wanted) {
    const v = headers[name];
    if (v !== undefined) metadata[key] = typeof v === 'string' ? [v] : [...v];
  }
  return JSON.stringify(metadata);
}

/** The HTTP headers of an event in CloudEvents HTTP binary mode, as KServe's agent (cloudevents sdk-go) writes them. */
export function cloudEventHeaders(event: PayloadEvent, attributes: EventAttributes): Record<string, string> {
  const headers: Record<string, string> = {
    'ce-specversion': '1.0',
    'ce-id': event.id,
    'ce-source': attributes.source,
    'ce-type': event.kind === 'request' ? CE_REQUEST_TYPE : CE_RESPONSE_TYPE,
    'ce-time': event.time,
  };
  if (attributes.inferenceService) headers['ce-inferenceservicename'] = attributes.inferenceService;
  if (attributes.namespace) headers['ce-namespace'] = attributes.namespace;
  if (attributes.component) headers['ce-component'] = attributes.component;
  if (attributes.endpoint) headers['ce-endpoint'] = attributes.endpoint;
  headers['ce-metadata'] = event.metadata;
  if (event.contentType) headers['content-type'] = event.contentType;
  return headers;
}
