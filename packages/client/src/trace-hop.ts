import type { InferContext, SpanAttributes, TraceSpan } from '@servekit/core';

/** What a traced hop to the predictor is: its span name and attributes (OpenTelemetry HTTP or RPC conventions). */
export interface HopSpec {
  /** Span name, e.g. `POST` or `inference.GRPCInferenceService/ModelInfer`. */
  name: string;
  /** Client span attributes. */
  attributes: SpanAttributes;
  /** Attributes set when the call succeeds (the status code). */
  ok: SpanAttributes;
}

/**
 * Run a transformer's call to its predictor. With tracing on (`ctx.span` set) the call gets a client span (a child
 * of the current stage's span) whose W3C `traceparent` / `tracestate` replace the forwarded ones in `headers`, so the
 * predictor's server span is its child and one trace spans both servers. With tracing off it is just `call()`.
 */
export async function traceHop<T>(
  ctx: InferContext,
  headers: Record<string, string>,
  hop: () => HopSpec,
  call: () => Promise<T>,
  statusOf: (err: unknown) => SpanAttributes,
): Promise<T> {
  if (!ctx.span) return call();
  const spec = hop();
  const span: TraceSpan = ctx.span.child(spec.name, { kind: 'client', attributes: spec.attributes });
  span.inject(headers);
  try {
    const result = await call();
    span.setAttributes(spec.ok);
    return result;
  } catch (err) {
    span.setAttributes(statusOf(err));
    span.fail(err);
    throw err;
  } finally {
    span.end();
  }
}
