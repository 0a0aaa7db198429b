import type { FastifyInstance } from 'fastify';
import type { DataPlane } from '../dataplane.js';
import { InvalidInput } from '../errors.js';
import type { V1Request } from '../tensor/infer-types.js';
import { rawBody, restContext } from './rest-plugin.js';
import { parseJson } from './v2-codec.js';

/**
 * Parse and check a V1 body as KServe does: any JSON object, whose `instances`, when present, is a list. A body
 * without `instances` or `inputs` (e.g. `{"url": ...}`) goes to the model's hooks as it is; servekit's prebuilt
 * models answer such a body with a 400 naming what they need.
 */
export function decodeV1Request(text: string): V1Request {
  const body = parseJson(text);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInput('V1 request body must be a JSON object, e.g. {"instances": [...]}.');
  }
  const req = body as V1Request;
  if (req.instances !== undefined && !Array.isArray(req.instances)) {
    throw new InvalidInput('Expected "instances" to be a list.');
  }
  return req;
}

/** KServe V1 routes: list, model status, `:predict` and `:explain`. */
export function registerV1Routes(app: FastifyInstance, dataplane: DataPlane): void {
  app.get('/v1/models', async () => ({ models: dataplane.repository.names() }));

  // One route for `/v1/models/{name}` and `/v1/models/{name}:verb`: a literal ':' cannot follow a path parameter.
  app.get<{ Params: { name: string } }>('/v1/models/:name', async (request, reply) => {
    const name = request.params.name;
    const ready = dataplane.modelReady(name);
    return reply.code(ready ? 200 : 503).send({ name, ready });
  });

  app.post<{ Params: { target: string } }>('/v1/models/:target', async (request, reply) => {
    const target = request.params.target;
    const colon = target.lastIndexOf(':');
    const verb = colon < 0 ? '' : target.slice(colon + 1);
    const name = target.slice(0, colon);
    if (verb !== 'predict' && verb !== 'explain') {
      throw new InvalidInput(`Unknown V1 verb in "${target}": use /v1/models/{name}:predict or :explain.`);
    }
    const body = decodeV1Request(rawBody(request).toString('utf8'));
    const ctx = restContext(request, reply, 'v1');
    const result =
      verb === 'predict' ? await dataplane.inferV1(name, body, ctx) : await dataplane.explain(name, body, ctx);
    return reply.type('application/json').send(JSON.stringify(result));
  });
}
