import type { InferContext } from '../model/model.js';
import type { TraceSpan } from './span.js';

/** A queued request as the batch tracing sees it: its context (its request's span) and its queue-wait span. */
export interface TracedMember {
  /** The request's context; `ctx.span` is its request (server) span. */
  readonly ctx: InferContext;
  /** The request's `batch_queue` span, open while it waits. */
  readonly span?: TraceSpan;
}

/** The `batch_queue` span of a request entering the batch queue (a child of its request's span). */
export function startQueueSpan(parent: TraceSpan, modelName: string, rows: number): TraceSpan {
  return parent.child('batch_queue', {
    attributes: { 'servekit.model.name': modelName, 'servekit.request_rows': rows },
  });
}

/**
 * The `predict` span of one batch, started as the batch is dispatched: a child of the first member's request span,
 * linked to every member's request span, with `servekit.batch_size` (rows) and `servekit.batch_requests`. Each
 * member's `batch_queue` span gets a link to it and ends (the wait is over). Undefined when tracing is off.
 */
export function startBatchSpan(
  members: readonly TracedMember[],
  modelName: string,
  rows: number,
): TraceSpan | undefined {
  const parent = members[0]?.ctx.span;
  if (!parent) return undefined;
  const links: TraceSpan[] = [];
  for (const m of members) if (m.ctx.span) links.push(m.ctx.span);
  const span = parent.child('predict', {
    attributes: {
      'servekit.model.name': modelName,
      'servekit.batch_size': rows,
      'servekit.batch_requests': members.length,
    },
    links,
  });
  for (const m of members) {
    if (!m.span) continue;
    m.span.setAttributes({ 'servekit.batch_size': rows });
    m.span.addLink(span);
    m.span.end();
  }
  return span;
}
