/**
 * The tracing interface the dataplane, the REST plugin, the gRPC service, the batcher and the transformer's client
 * call. It names no OpenTelemetry type: the OpenTelemetry SDK is loaded (by `startTracing`) only when tracing is on,
 * and when it is off there is no Tracer and no span (`InferContext.span` is undefined), so the hot path does nothing.
 */

/** A span attribute value (OpenTelemetry's primitive attribute values). */
export type SpanAttributeValue = string | number | boolean;

/** Span attributes; undefined values are left out. */
export type SpanAttributes = Readonly<Record<string, SpanAttributeValue | undefined>>;

/** The kind of a span (OpenTelemetry SpanKind): `server` for an incoming request, `client` for an outgoing one. */
export type TraceSpanKind = 'internal' | 'server' | 'client';

/** Options of {@link TraceSpan.child}. */
export interface ChildSpanOptions {
  /** Span kind. Default `internal`. */
  kind?: TraceSpanKind;
  /** Attributes set at start (samplers see them). */
  attributes?: SpanAttributes;
  /** Spans this one links to (e.g. a batch's predict span to each member request's span). */
  links?: readonly TraceSpan[];
}

/** One span in flight. Every span is ended exactly once by whoever started it. */
export interface TraceSpan {
  /** The W3C trace id (32 hex digits). */
  readonly traceId: string;
  /** The span id (16 hex digits). */
  readonly spanId: string;
  /** Start a span whose parent is this one. */
  child(name: string, options?: ChildSpanOptions): TraceSpan;
  /** Set attributes (undefined values are skipped). */
  setAttributes(attributes: SpanAttributes): void;
  /** Add a link to another span (e.g. a queued request's span to the batch that ran it). */
  addLink(to: TraceSpan): void;
  /** Mark the span failed: status ERROR with the error's message, `error.type` the error's name. */
  fail(error: unknown): void;
  /** End the span (later calls do nothing). */
  end(): void;
  /** Write this span's W3C `traceparent` (and `tracestate`) into `carrier`, replacing what is there. */
  inject(carrier: Record<string, string>): void;
}

/** Starts the server span of each incoming request (REST or gRPC). */
export interface Tracer {
  /**
   * Start the server span of an incoming request: a child of the W3C `traceparent` / `tracestate` in `headers`
   * (HTTP headers or gRPC metadata, lower-case names) when they are valid, else the root of a new trace.
   */
  startServerSpan(name: string, headers: Readonly<Record<string, unknown>>, attributes: SpanAttributes): TraceSpan;
  /** Export the spans ended so far (resolves when the exporter has sent them). */
  flush(): Promise<void>;
  /** Export the spans not exported yet and stop (the server calls it when it stops). */
  shutdown(): Promise<void>;
}

/** Options of servekit's OpenTelemetry tracing; every field defaults to the standard `OTEL_*` environment variables. */
export interface TracingOptions {
  /** `service.name` of the exported spans. Default `OTEL_SERVICE_NAME`, else `servekit`. */
  serviceName?: string;
  /**
   * OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. Default `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://localhost:4318/v1/traces`.
   */
  endpoint?: string;
}

/** Where the OpenTelemetry SDK's own warnings and errors go (a failed export, a bad `OTEL_*` value): the server log. */
export interface TracingLog {
  /** Log a warning. */
  warn(message: string): void;
  /** Log an error. */
  error(message: string): void;
}
