/**
 * JSON answers as exactly `application/json` (KServe's Python client checks it). fastify appends `; charset=utf-8`
 * to a JSON content type when the payload is a string or an object (parsing the content type for each answer): the
 * inference routes send their JSON as bytes instead (a Buffer keeps the content type as set), and one `onSend` hook
 * sets the type back for everything else (objects serialized by fastify, strings sent by other hooks, e.g. auth's 401).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { JSON_TYPE } from './rest-helpers.js';

/** Send `json` (JSON text) as the answer's bytes, with the content type exactly `application/json`. */
export function sendJson(reply: FastifyReply, json: string): FastifyReply {
  return reply.type(JSON_TYPE).send(Buffer.from(json, 'utf8'));
}

/** Every answer of `app` (its scope) with fastify's `application/json; charset=utf-8` goes out as `application/json`. */
export function exactJsonType(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.type(JSON_TYPE);
    done(null, payload);
  });
}
