import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LoggedRequest, PayloadLogger } from './payload-logger.js';

/** The inference routes whose requests and responses are logged (POST): V2 infer, V1 `:predict` / `:explain`. */
const LOGGED_ROUTES: ReadonlySet<string> = new Set([
  '/v2/models/:name/infer',
  '/v2/models/:name/versions/:version/infer',
  '/v1/models/:target',
]);

/**
 * Log the inference requests and responses of a REST app: the request body as received (after inflating gzip /
 * deflate) once parsed, and a 200 answer's exact bytes as sent, each with its content type. Register only when
 * payload logging is on: nothing is kept otherwise. Register after hooks that change the answer's content type.
 */
export function registerPayloadLogHooks(app: FastifyInstance, log: PayloadLogger): void {
  const logged = new WeakMap<FastifyRequest, LoggedRequest>();
  app.addHook('preHandler', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (request.method === 'POST' && route !== undefined && LOGGED_ROUTES.has(route)) {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      logged.set(request, log.request(request.headers, request.headers['content-type'], body));
    }
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const entry = logged.get(request);
    if (entry !== undefined && reply.statusCode === 200 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
      const type = reply.getHeader('content-type');
      log.response(entry, typeof type === 'string' ? type : undefined, payload);
    }
    done(null, payload);
  });
}
