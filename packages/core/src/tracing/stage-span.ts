import type { InferContext } from '../model/model.js';
import type { SpanAttributes, TraceSpan } from './span.js';

/**
 * Run one pipeline stage in a child span of `parent` (the request's span): `fn` gets `ctx` with the stage's span, so
 * what the stage starts (a transformer's call to its predictor) is a child of it. A throw marks the span failed.
 */
export async function inChildSpan<T>(
  parent: TraceSpan,
  ctx: InferContext,
  name: string,
  attributes: SpanAttributes | undefined,
  fn: (ctx: InferContext) => T | Promise<T>,
): Promise<T> {
  const span = parent.child(name, { attributes });
  try {
    return await fn({ ...ctx, span });
  } catch (err) {
    span.fail(err);
    throw err;
  } finally {
    span.end();
  }
}

/** `servekit.model.name` / `servekit.model.version` attributes of a model's spans. */
export function modelAttributes(name: string, version: string | undefined): SpanAttributes {
  return { 'servekit.model.name': name, 'servekit.model.version': version };
}
