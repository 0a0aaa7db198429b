import type { FastifyInstance } from 'fastify';
import type { DataPlane } from '../dataplane.js';
import { clip, InvalidInput } from '../errors.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../limits.js';
import { parseJsonChecked, stringifyJson } from '../tensor/json-text.js';
import type { InferRequest, V1Request } from './infer-types.js';
import { sendJson } from './json-reply.js';
import { jsonBody, restContext } from './rest-helpers.js';
import { decodeInferRequest } from './v2-codec.js';

/** True when a V1 `inputs` value is a list of V2-style tensors (`{"name", "datatype", "shape", "data"}`). */
function isTensorList(inputs: unknown): inputs is unknown[] {
  return (
    Array.isArray(inputs) &&
    inputs.length > 0 &&
    inputs.every((t) => typeof t === 'object' && t !== null && !Array.isArray(t)) &&
    inputs.some((t) => 'datatype' in (t as object))
  );
}

/**
 * Parse and check a V1 body as KServe does: any JSON object, whose `instances`, when present, is a list. A body
 * without `instances` or `inputs` (e.g. `{"url": ...}`) goes to the model's hooks as it is; servekit's prebuilt
 * models answer such a body with a 400 naming what they need. Columnar `inputs` given as V2 tensors are decoded
 * and checked like a V2 request (typed arrays, shape, datatype, decoded size): the result is an InferRequest.
 */
export function decodeV1Request(
  body: Uint8Array | string,
  limits: RequestLimits = DEFAULT_REQUEST_LIMITS,
): V1Request | InferRequest {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const parsed = parseJsonChecked(bytes, limits.maxJsonDepth);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidInput('V1 request body must be a JSON object, e.g. {"instances": [...]}.');
  }
  const req = parsed as V1Request;
  if (req.instances !== undefined && !Array.isArray(req.instances)) {
    throw new InvalidInput('Expected "instances" to be a list.');
  }
  if (req.instances === undefined && isTensorList(req.inputs)) {
    return decodeInferRequest({ inputs: req.inputs, parameters: req.parameters }, undefined, { limits });
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
      throw new InvalidInput(`Unknown V1 verb in "${clip(target)}": use /v1/models/{name}:predict or :explain.`);
    }
    const body = decodeV1Request(jsonBody(request, dataplane.limits), dataplane.limits);
    const ctx = restContext(request, reply, 'v1');
    const result =
      verb === 'predict' ? await dataplane.inferV1(name, body, ctx) : await dataplane.explain(name, body, ctx);
    return sendJson(reply, stringifyJson(result));
  });
}
