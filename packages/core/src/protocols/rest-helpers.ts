/**
 * Helpers shared by the REST route modules and the REST plugin: per-request context, request bodies, and the
 * KServe error body. The plugin and the route files import these; nothing here imports them back.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { clip, InvalidInput, redactPaths, ServekitError, toServekitError } from '../errors.js';
import { type RequestLimits, RequestTooLarge } from '../limits.js';
import type { InferContext, Protocol } from '../model/model.js';
import { restRequestSpan } from '../tracing/rest-tracing.js';
import { makeContext } from './context.js';

/** The media type of every JSON answer (exactly, without a charset: KServe's Python client checks it). */
export const JSON_TYPE = 'application/json';

/**
 * Per-request context for a REST request, aborted when the client disconnects before the reply. Its signal (an
 * AbortController and a 'close' listener) is made when first read: already aborted if the client has gone by then.
 * `clientGone` answers the same question from the response's state, allocating nothing.
 */
export function restContext(
  request: FastifyRequest,
  reply: FastifyReply,
  protocol: Protocol,
  bodyId?: string,
): InferContext {
  const res = reply.raw;
  const ctx = makeContext(request.headers, protocol, () => disconnectSignal(res), bodyId, restRequestSpan(request));
  ctx.clientGone = () => res.destroyed && !res.writableFinished;
  return ctx;
}

/** A signal aborted when `res` closes before its answer is fully written (the client went away). */
function disconnectSignal(res: FastifyReply['raw']): AbortSignal {
  const ac = new AbortController();
  if (res.destroyed) {
    if (!res.writableFinished) ac.abort();
  } else {
    res.once('close', () => {
      if (!res.writableFinished) ac.abort();
    });
  }
  return ac.signal;
}

/** Most characters of a fastify error message sent to a client. */
const MAX_FRAMEWORK_MESSAGE_CHARS = 500;

/** The status and client-safe message of any error reaching the REST boundary. */
function clientError(err: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (err instanceof ServekitError) return { status: err.status, message: err.message, headers: err.headers };
  const e = err as { statusCode?: number; message?: string; code?: string };
  // fastify's own errors (body too large, bad content type…) carry a 4xx status and a message meant for clients.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // Clipped: fastify's messages may echo client input (a content type, a URL) whole.
    let message = clip(e.message ?? String(err), MAX_FRAMEWORK_MESSAGE_CHARS);
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `Request body is larger than the limit (${message}).`;
    return { status: e.statusCode, message, headers: {} };
  }
  return { status: 500, message: toServekitError(err).message, headers: {} };
}

/**
 * Send any error as KServe's `{"error": "..."}` body with the right status, as exactly `application/json` (KServe's
 * Python client reads the message only then). Absolute paths are redacted; an error that is not a ServekitError
 * or a client error of fastify's is a 500 whose detail goes to `log` only.
 */
export function sendError(reply: FastifyReply, err: unknown, log?: Logger): FastifyReply {
  const { status, message, headers } = clientError(err);
  if (status === 500 && !(err instanceof ServekitError)) log?.error({ err }, 'internal error in a REST request');
  // Bytes, not a string: fastify keeps the content type of a Buffer as set (no charset appended).
  return reply
    .code(status)
    .headers(headers)
    .type(JSON_TYPE)
    .send(Buffer.from(JSON.stringify({ error: redactPaths(message) }), 'utf8'));
}

/** The raw body of a request as a Buffer (empty when there is none). */
export function rawBody(request: FastifyRequest): Buffer {
  const body = request.body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  throw new InvalidInput('Unsupported request body.');
}

/**
 * The body of a request that is all JSON (V1, V2 without the binary extension), after inflating; over
 * `limits.maxJsonBodySize` → 413 before any parsing.
 */
export function jsonBody(request: FastifyRequest, limits: RequestLimits): Buffer {
  const body = rawBody(request);
  checkJsonSize(body.byteLength, limits);
  return body;
}

/** Throw RequestTooLarge (413) when `bytes` of JSON text are over `limits.maxJsonBodySize`. */
export function checkJsonSize(bytes: number, limits: RequestLimits): void {
  if (bytes > limits.maxJsonBodySize) {
    throw new RequestTooLarge(
      `JSON request body of ${bytes} bytes is over the limit of ${limits.maxJsonBodySize} (--max_json_body_size); send large tensors with the binary tensor extension.`,
    );
  }
}
