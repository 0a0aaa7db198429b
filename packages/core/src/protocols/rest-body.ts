/**
 * Reading REST request bodies: one content-type parser for every media type that reads the body stream itself, so
 * the checks that need only the headers come before a byte is buffered, without a `preParsing` hook per request
 * (fastify runs a hook chain and binds a continuation for each request that has one):
 * - a plain JSON body (no binary part, not compressed) declared larger than the JSON limit → 413 (RequestTooLarge);
 * - a body declared or read past `maxBodySize` → fastify's FST_ERR_CTP_BODY_TOO_LARGE (413);
 * - a body whose length is not its Content-Length → fastify's FST_ERR_CTP_INVALID_CONTENT_LENGTH (400);
 * - a gzip / deflate body is inflated, never past `maxBodySize`.
 * The body handed on is a copy (never a view of the socket's read buffer), as fastify's own buffer parser does.
 */
import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { RequestLimits } from '../limits.js';
import { inflateBody } from './body-encoding.js';
import { checkJsonSize } from './rest-helpers.js';
import { BINARY_HEADER } from './v2-codec.js';

/** Callback of a fastify content-type parser. */
type ParserDone = (err: Error | null, body?: Buffer) => void;

/** A read error carrying an HTTP status (a stream error without a 4xx one becomes a 400, as in fastify). */
type StatusError = Error & { statusCode?: number };

/**
 * Read every request body of `app` (its scope) as a Buffer, checked and inflated as the module comment says.
 * `limits` is read per request (the server's current JSON limit).
 */
export function readBodiesAsBuffers(
  app: FastifyInstance,
  maxBodySize: number,
  limits: { readonly limits: RequestLimits },
): void {
  app.removeAllContentTypeParsers();
  const parse = (request: FastifyRequest, payload: IncomingMessage, done: ParserDone) => {
    const { headers } = request;
    const declared = Number(headers['content-length']);
    const encoding = headers['content-encoding'];
    if (headers[BINARY_HEADER] === undefined && encoding === undefined && declared > 0) {
      try {
        checkJsonSize(declared, limits.limits);
      } catch (err) {
        return done(err as Error);
      }
    }
    if (declared > maxBodySize) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    readBody(payload, declared, maxBodySize, (err, body) => {
      if (err || encoding === undefined) return done(err, body); // as is: no promise per body
      inflateBody(body!, encoding, maxBodySize).then(
        (inflated) => done(null, inflated),
        (e: Error) => done(e),
      );
    });
  };
  // The catch-all alone would do, but fastify caches the parser it found per Content-Type only when that type was
  // registered by name: for '*' it parses the header again (a ContentType object and its parameter Map) on every
  // request. Naming the types clients send makes those one cache hit.
  app.addContentTypeParser(CACHED_TYPES, parse);
  app.addContentTypeParser('*', parse);
}

/** Content-Types clients send: JSON, the binary tensor extension's bytes, and curl's `-d` default. */
const CACHED_TYPES = ['application/json', 'application/octet-stream', 'application/x-www-form-urlencoded'];

/** Read `payload` whole: at most `limit` bytes, exactly `declared` when that is a number. */
function readBody(payload: IncomingMessage, declared: number, limit: number, done: ParserDone): void {
  const chunks: Buffer[] = [];
  let received = 0;
  const stop = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) {
      stop();
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = (err?: StatusError) => {
    stop();
    if (err) {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      done(err);
      return;
    }
    if (!Number.isNaN(declared) && received !== declared) {
      done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      return;
    }
    done(null, Buffer.concat(chunks, received));
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}
