/**
 * JSON answers as exactly `application/json` (KServe's Python client checks it). fastify appends `; charset=utf-8`
 * to a JSON content type when the payload is a string or an object without a serializer of the reply's own: the
 * inference routes send their JSON text through an identity serializer (fastify then keeps the content type as set),
 * and one `onSend` hook sets the type back for everything else (objects serialized by fastify, strings sent by other
 * hooks, e.g. auth's 401).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { JSON_TYPE } from './rest-helpers.js';

/** The reply serializer of text that is already JSON: hands it on as is. */
const jsonText = (payload: unknown): string => payload as string;

/**
 * Send `json` (JSON text) with the content type exactly `application/json`. As a string, not bytes: no copy into a
 * Buffer, and Node writes the head and the body in one `write` (a Buffer body goes out as a two-chunk `writev`);
 * fastify sets the content length from the string's UTF-8 byte length.
 */
export function sendJson(reply: FastifyReply, json: string): FastifyReply {
  return reply.type(JSON_TYPE).serializer(jsonText).send(json);
}

/** Every answer of `app` (its scope) with fastify's `application/json; charset=utf-8` goes out as `application/json`. */
export function exactJsonType(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.type(JSON_TYPE);
    done(null, payload);
  });
}
