/**
 * The OpenTelemetry implementation of {@link Tracer}: a BasicTracerProvider (sampler from `OTEL_TRACES_SAMPLER` /
 * `_ARG`, default parent-based always-on), a BatchSpanProcessor and the OTLP/HTTP (JSON) exporter, W3C trace
 * context in and out. It is not registered globally (two servers in one process keep their own providers).
 * This is the only module that imports `@opentelemetry/*`, and only `startTracing` loads it, with `import()`.
 */
import {
  type Attributes,
  type Context,
  DiagLogLevel,
  diag,
  type Link,
  type Tracer as OtelApiTracer,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type {
  ChildSpanOptions,
  SpanAttributes,
  Tracer,
  TraceSpan,
  TraceSpanKind,
  TracingLog,
  TracingOptions,
} from './span.js';

const propagator = new W3CTraceContextPropagator();

const KINDS: Record<TraceSpanKind, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
};

/** Reads W3C headers from HTTP headers or gRPC metadata (a repeated header: its first value). */
const headerGetter: TextMapGetter<Readonly<Record<string, unknown>>> = {
  get(carrier, key) {
    const v = carrier[key];
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
    return undefined;
  },
  keys: (carrier) => Object.keys(carrier),
};

function attributes(attrs: SpanAttributes | undefined): Attributes | undefined {
  if (!attrs) return undefined;
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = v;
  return out;
}

/** A TraceSpan over an OpenTelemetry span. */
class OtelSpan implements TraceSpan {
  private ended = false;

  constructor(
    private readonly tracer: OtelApiTracer,
    readonly span: Span,
  ) {}

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  get spanId(): string {
    return this.span.spanContext().spanId;
  }

  child(name: string, options: ChildSpanOptions = {}): TraceSpan {
    const parent = trace.setSpan(ROOT_CONTEXT, this.span);
    const links: Link[] | undefined = options.links?.map((l) => ({ context: (l as OtelSpan).span.spanContext() }));
    const kind = KINDS[options.kind ?? 'internal'];
    return new OtelSpan(
      this.tracer,
      this.tracer.startSpan(name, { kind, attributes: attributes(options.attributes), links }, parent),
    );
  }

  setAttributes(attrs: SpanAttributes): void {
    const a = attributes(attrs);
    if (a) this.span.setAttributes(a);
  }

  addLink(to: TraceSpan): void {
    this.span.addLink({ context: (to as OtelSpan).span.spanContext() });
  }

  fail(error: unknown): void {
    const e = error as { name?: unknown; message?: unknown };
    const message = typeof e?.message === 'string' ? e.message : String(error);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
    this.span.setAttribute('error.type', typeof e?.name === 'string' ? e.name : 'Error');
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }

  inject(carrier: Record<string, string>): void {
    propagator.inject(trace.setSpan(ROOT_CONTEXT, this.span), carrier, {
      set: (c, k, v) => {
        c[k] = v;
      },
    });
  }
}

/** The traces URL an explicit endpoint option names: a bare `host:port` base gets `/v1/traces`. */
function tracesUrl(endpoint: string): string {
  const u = new URL(endpoint);
  return u.pathname === '/' ? `${u.origin}/v1/traces` : u.href;
}

/** An OpenTelemetry tracer exporting OTLP/HTTP JSON; see the module comment. */
export class OtelTracer implements Tracer {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: OtelApiTracer;

  constructor(options: TracingOptions, serverVersion: string, log?: TracingLog) {
    if (log) {
      const quiet = () => {};
      const text = (message: string, args: unknown[]) =>
        `OpenTelemetry: ${[message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(' ')}`;
      diag.setLogger(
        {
          error: (m, ...a) => log.error(text(m, a)),
          warn: (m, ...a) => log.warn(text(m, a)),
          info: quiet,
          debug: quiet,
          verbose: quiet,
        },
        { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
      );
    }
    const env = detectResources({ detectors: [envDetector] });
    let resource = defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'servekit', [ATTR_SERVICE_VERSION]: serverVersion }))
      .merge(env);
    if (options.serviceName)
      resource = resource.merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }));
    const exporter = new OTLPTraceExporter(options.endpoint ? { url: tracesUrl(options.endpoint) } : {});
    this.provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
    this.tracer = this.provider.getTracer('servekit', serverVersion);
  }

  startServerSpan(name: string, headers: Readonly<Record<string, unknown>>, attrs: SpanAttributes): TraceSpan {
    const parent: Context = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: attributes(attrs) }, parent);
    return new OtelSpan(this.tracer, span);
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    try {
      await this.provider.shutdown();
    } catch (err) {
      diag.warn(`servekit tracing: shutdown failed: ${(err as Error).message}`);
    }
  }
}
