import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { DataPlane } from '../dataplane.js';
import { clip, InvalidInput, redactPaths, ServekitError, toServekitError } from '../errors.js';
import { type RequestLimits, RequestTooLarge } from '../limits.js';
import type { InferContext, Protocol } from '../model/model.js';
import { inflateBody } from './body-encoding.js';
import { makeContext } from './context.js';
import { registerV1Routes } from './v1-rest.js';
import { BINARY_HEADER } from './v2-codec.js';
import { registerV2Routes } from './v2-rest.js';

const JSON_TYPE = 'application/json';
/** Most characters of a fastify error message sent to a client. */
const MAX_FRAMEWORK_MESSAGE_CHARS = 500;

/** Options of the servekit REST plugin. */
export interface RestPluginOptions {
  /** The dataplane requests go to. */
  dataplane: DataPlane;
  /** Largest accepted request body in bytes (and the most a gzip/deflate body may inflate to). */
  maxBodySize: number;
  /** Renders Prometheus text for `GET /metrics`; omitted → no metrics route. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

/** Per-request context for a REST request, aborted when the client disconnects before the reply. */
export function restContext(
  request: FastifyRequest,
  reply: FastifyReply,
  protocol: Protocol,
  bodyId?: string,
): InferContext {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return makeContext(request.headers, protocol, ac.signal, bodyId);
}

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
  return reply
    .code(status)
    .headers(headers)
    .type(JSON_TYPE)
    .send(JSON.stringify({ error: redactPaths(message) }));
}

/**
 * The REST side of servekit as a fastify plugin: KServe V1, V2 / Open Inference Protocol (with the binary
 * tensor extension) and `/metrics`. Register it on your own fastify app to embed servekit routes.
 */
export async function servekitRestPlugin(app: FastifyInstance, options: RestPluginOptions): Promise<void> {
  const { dataplane, maxBodySize } = options;
  // Bodies arrive as raw buffers: JSON is parsed by the protocol (binary-extension bodies are JSON + bytes).
  // gzip / deflate bodies are inflated here, never past maxBodySize.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodySize }, (request, body, done) => {
    inflateBody(body as Buffer, request.headers['content-encoding'], maxBodySize).then(
      (inflated) => done(null, inflated),
      (err: Error) => done(err, undefined),
    );
  });
  // A plain JSON body (no binary part, not compressed) declared larger than the JSON limit is refused before it is
  // read: the 413 costs no buffering.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const { headers } = request;
    if (headers[BINARY_HEADER] === undefined && headers['content-encoding'] === undefined) {
      const declared = Number(headers['content-length']);
      if (declared > 0) checkJsonSize(declared, dataplane.limits);
    }
    return payload;
  });
  app.setErrorHandler((err, _request, reply) => sendError(reply, err, dataplane.logger));
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type(JSON_TYPE)
      .send(JSON.stringify({ error: `Route ${request.method} ${clip(request.url)} not found.` })),
  );
  // JSON answers go out as exactly `application/json`, as KServe's server sends them.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.type(JSON_TYPE);
    return payload;
  });
  // KServe's V1 liveness (`InferenceRESTClient.is_server_live` asks `GET /` of a v1 server).
  app.get('/', async () => ({ status: 'alive' }));
  registerV1Routes(app, dataplane);
  registerV2Routes(app, dataplane);
  const { metrics } = options;
  if (metrics) {
    app.get('/metrics', async (_request, reply) => {
      const m = await metrics();
      return reply.type(m.contentType).send(m.body);
    });
  }
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
