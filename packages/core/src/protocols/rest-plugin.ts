import type { FastifyInstance } from 'fastify';
import type { DataPlane } from '../dataplane.js';
import { clip } from '../errors.js';
import type { PayloadLogger } from '../payload-log/payload-logger.js';
import { registerPayloadLogHooks } from '../payload-log/rest-hooks.js';
import { traceRestRequests } from '../tracing/rest-tracing.js';
import type { Tracer } from '../tracing/span.js';
import { exactJsonType, sendJson } from './json-reply.js';
import { readBodiesAsBuffers } from './rest-body.js';
import { sendError } from './rest-helpers.js';
import { registerV1Routes } from './v1-rest.js';
import { registerV2Routes } from './v2-rest.js';

/** Options of the servekit REST plugin. */
export interface RestPluginOptions {
  /** The dataplane requests go to. */
  dataplane: DataPlane;
  /** Largest accepted request body in bytes (and the most a gzip/deflate body may inflate to). */
  maxBodySize: number;
  /** Renders Prometheus text for `GET /metrics`; omitted → no metrics route. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Logs inference requests and responses (payload logging); omitted → nothing is captured. */
  payloadLog?: PayloadLogger;
  /** With tracing on, the tracer every request gets a server span from; omitted → no tracing hooks at all. */
  tracer?: Tracer;
}

/**
 * The REST side of servekit as a fastify plugin: KServe V1, V2 / Open Inference Protocol (with the binary
 * tensor extension) and `/metrics`. Register it on your own fastify app to embed servekit routes.
 */
export async function servekitRestPlugin(app: FastifyInstance, options: RestPluginOptions): Promise<void> {
  const { dataplane, maxBodySize } = options;
  if (options.tracer) traceRestRequests(app, options.tracer);
  // Bodies arrive as raw buffers (inflated, size-checked before reading): JSON is parsed by the protocol.
  readBodiesAsBuffers(app, maxBodySize, dataplane);
  app.setErrorHandler((err, _request, reply) => sendError(reply, err, dataplane.logger));
  app.setNotFoundHandler((request, reply) =>
    sendJson(reply.code(404), JSON.stringify({ error: `Route ${request.method} ${clip(request.url)} not found.` })),
  );
  // JSON answers go out as exactly `application/json`, as KServe's server sends them.
  exactJsonType(app);
  if (options.payloadLog) registerPayloadLogHooks(app, options.payloadLog);
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
