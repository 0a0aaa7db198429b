import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Tracer, TraceSpan } from './span.js';

const SPAN = Symbol('servekit.span');

type TracedRequest = FastifyRequest & { [SPAN]?: TraceSpan };

/**
 * Give every request of `app` an HTTP server span (OpenTelemetry HTTP semantic conventions): named
 * `{method} {route}`, a child of the client's `traceparent`, ended when the response is sent (or the client aborts)
 * with `http.response.status_code`; 5xx answers are errors. Call only when tracing is on.
 */
export function traceRestRequests(app: FastifyInstance, tracer: Tracer): void {
  // Callback hooks (not async): no promise per request per hook.
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const query = request.url.indexOf('?');
    (request as TracedRequest)[SPAN] = tracer.startServerSpan(
      route ? `${request.method} ${route}` : request.method,
      request.headers,
      {
        'http.request.method': request.method,
        'url.path': query < 0 ? request.url : request.url.slice(0, query),
        'url.scheme': request.protocol,
        'http.route': route,
        'server.address': request.hostname,
        'server.port': request.port ?? undefined,
        'client.address': request.ip,
        'network.protocol.version': request.raw.httpVersion,
        'user_agent.original': request.headers['user-agent'],
      },
    );
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = (request as TracedRequest)[SPAN];
    if (span) {
      const status = reply.statusCode;
      span.setAttributes({ 'http.response.status_code': status });
      if (status >= 500) span.fail({ name: String(status), message: `HTTP ${status}` });
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = (request as TracedRequest)[SPAN];
    if (span) {
      span.fail({ name: 'RequestAborted', message: 'The client closed the connection before the response.' });
      span.end();
    }
    done();
  });
}

/** The server span of a REST request (undefined when tracing is off). */
export function restRequestSpan(request: FastifyRequest): TraceSpan | undefined {
  return (request as TracedRequest)[SPAN];
}
