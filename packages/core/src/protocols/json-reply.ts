/**
 * JSON answers as exactly `application/json` (KServe's Python client checks it) at the least cost per request.
 * fastify appends `; charset=utf-8` to a JSON content type when the payload is a string or an object: the
 * inference routes send their JSON as bytes instead (a Buffer keeps the content type as set), and only the other
 * routes (objects serialized by fastify: metadata, health, repository…) get the hook that sets it back.
 */
import type { FastifyInstance, FastifyReply, onSendHookHandler } from 'fastify';
import { JSON_TYPE } from './rest-helpers.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route sends its JSON as bytes with the exact content type (no fix-up hook; see json-reply.ts). */
    servekitJsonBytes?: boolean;
  }
}

/** Route `config` of a route whose every answer goes through {@link sendJson} or `sendError`: no fix-up hook. */
export const SENDS_JSON_BYTES = { servekitJsonBytes: true } as const;

/** Send `json` (JSON text) as the answer's bytes, with the content type exactly `application/json`. */
export function sendJson(reply: FastifyReply, json: string): FastifyReply {
  return reply.type(JSON_TYPE).send(Buffer.from(json, 'utf8'));
}

/** The fix-up: `application/json; charset=utf-8` (fastify's, for a serialized object) → `application/json`. */
const exactJsonType: onSendHookHandler = (_request, reply, payload, done) => {
  if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.type(JSON_TYPE);
  done(null, payload);
};

/**
 * Give every route registered after this call on `app` (its scope) the content-type fix-up as a route-level
 * `onSend` hook, except routes whose `config` is {@link SENDS_JSON_BYTES}.
 */
export function exactJsonTypeOnRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.config?.servekitJsonBytes === true) return;
    const own = route.onSend;
    route.onSend = own === undefined ? [exactJsonType] : [...(Array.isArray(own) ? own : [own]), exactJsonType];
  });
}
