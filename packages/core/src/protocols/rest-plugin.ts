import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DataPlane } from '../dataplane.js';
import { InvalidInput, ServekitError } from '../errors.js';
import type { InferContext, Protocol } from '../model/model.js';
import { makeContext } from './context.js';
import { registerV1Routes } from './v1-rest.js';
import { registerV2Routes } from './v2-rest.js';

/** Options of the servekit REST plugin. */
export interface RestPluginOptions {
  /** The dataplane requests go to. */
  dataplane: DataPlane;
  /** Largest accepted request body in bytes. */
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

/** Send a ServekitError (or any error) as KServe's `{"error": "..."}` body with the right status. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ServekitError) {
    return reply.code(err.status).headers(err.headers).send({ error: err.message });
  }
  const e = err as { statusCode?: number; message?: string; code?: string };
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500;
  let message = e.message ?? String(err);
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `Request body is larger than the limit (${message}).`;
  return reply.code(status).send({ error: message });
}

/**
 * The REST side of servekit as a fastify plugin: KServe V1, V2 / Open Inference Protocol (with the binary
 * tensor extension) and `/metrics`. Register it on your own fastify app to embed servekit routes.
 */
export async function servekitRestPlugin(app: FastifyInstance, options: RestPluginOptions): Promise<void> {
  // Bodies arrive as raw buffers: JSON is parsed by the protocol (binary-extension bodies are JSON + bytes).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.maxBodySize }, (_req, body, done) => {
    done(null, body);
  });
  app.setErrorHandler((err, _request, reply) => sendError(reply, err));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `Route ${request.method} ${request.url} not found.` }),
  );
  registerV1Routes(app, options.dataplane);
  registerV2Routes(app, options.dataplane);
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
