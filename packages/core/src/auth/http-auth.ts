import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AuthFailureCounter } from './auth-metrics.js';
import type { Authenticator, AuthOutcome } from './authenticator.js';

/** The realm named in `WWW-Authenticate`. */
export const AUTH_REALM = 'servekit';

/**
 * Routes open without credentials (GET, and the HEAD fastify adds): the health APIs of KServe V1 and the Open
 * Inference Protocol: server liveness and readiness, and model readiness (what probes and a transformer's predictor
 * health check ask).
 */
export const OPEN_ROUTES: readonly string[] = [
  '/',
  '/v2/health/live',
  '/v2/health/ready',
  '/v1/models/:name',
  '/v2/models/:name/ready',
  '/v2/models/:name/versions/:version/ready',
];

/** The `WWW-Authenticate` value of a 401 (RFC 6750 §3: no error code when no credentials were sent). */
export function wwwAuthenticate(reason: Exclude<AuthOutcome, 'ok'>): string {
  return reason === 'missing' ? `Bearer realm="${AUTH_REALM}"` : `Bearer realm="${AUTH_REALM}", error="invalid_token"`;
}

/** The generic error message of a refusal: it never says which check failed. */
export function authErrorMessage(reason: Exclude<AuthOutcome, 'ok'>): string {
  return reason === 'missing'
    ? 'Authentication required: send Authorization: Bearer <token>.'
    : 'Invalid bearer token.';
}

/** Options of {@link httpAuthHook}. */
export interface HttpAuthOptions {
  /** Also require credentials for `GET /metrics`. Default false (open, like the probes). */
  protectMetrics?: boolean;
  /** Counts refusals. */
  countFailure?: AuthFailureCounter;
}

/**
 * A fastify `onRequest` hook requiring valid credentials on every route except the health probes (and `/metrics`
 * unless `protectMetrics`): a refusal is a 401 with `WWW-Authenticate: Bearer …` and `{"error": …}`, sent before the
 * body is read.
 */
export function httpAuthHook(auth: Authenticator, options: HttpAuthOptions = {}): onRequestHookHandler {
  const open = new Set(OPEN_ROUTES);
  if (!options.protectMetrics) open.add('/metrics');
  const refuse = (reply: FastifyReply, reason: Exclude<AuthOutcome, 'ok'>) => {
    options.countFailure?.('http', reason);
    reply
      .code(401)
      .header('www-authenticate', wwwAuthenticate(reason))
      .type('application/json')
      .send(JSON.stringify({ error: authErrorMessage(reason) }));
  };
  return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const route = request.routeOptions.url;
    if (route !== undefined && open.has(route) && (request.method === 'GET' || request.method === 'HEAD')) {
      done();
      return;
    }
    const outcome = auth.check(request.headers.authorization);
    if (outcome === 'ok') done();
    else if (typeof outcome === 'string') refuse(reply, outcome);
    else {
      outcome.then(
        (o) => (o === 'ok' ? done() : refuse(reply, o)),
        () => refuse(reply, 'invalid'),
      );
    }
  };
}
