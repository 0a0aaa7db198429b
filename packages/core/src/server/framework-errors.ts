import type { FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { GrpcCode, ServekitError } from '../errors.js';
import { sendError } from '../protocols/rest-helpers.js';

/** fastify's default longest path parameter (`maxParamLength`), in characters. */
export const MAX_PATH_PARAM_CHARS = 100;

/**
 * fastify's `frameworkErrors`: the errors fastify raises before routing (an over-long path parameter, a URL that does
 * not decode) answered as every other error, `{"error": …}` through `sendError`, without echoing the client's URL.
 */
export function frameworkErrorHandler(log: Logger): NonNullable<FastifyServerOptions['frameworkErrors']> {
  return (error, request, reply) => {
    const length = (request.raw.url ?? '').length;
    const code = (error as { code?: string }).code;
    let err: unknown = error;
    if (code === 'FST_ERR_MAX_PARAM_LENGTH') {
      err = new ServekitError(
        `The URL (${length} characters) has a path segment (model name, version or verb) longer than ${MAX_PATH_PARAM_CHARS} characters.`,
        414,
        GrpcCode.INVALID_ARGUMENT,
      );
    } else if (code === 'FST_ERR_BAD_URL') {
      err = new ServekitError(
        'The URL has a path segment that is not valid percent-encoded UTF-8.',
        400,
        GrpcCode.INVALID_ARGUMENT,
      );
    }
    // These replies skip the app's hooks (the REST plugin's exact content type): with a serializer of its own,
    // fastify sends the string as is, `application/json` without a charset.
    sendError(
      reply.serializer((payload: unknown) => String(payload)),
      err,
      log,
    );
  };
}
