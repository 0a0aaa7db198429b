import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DataPlane } from '../dataplane.js';
import { InvalidInput } from '../errors.js';
import { checkLoadParameters } from '../model/load-parameters.js';
import type { InferRequest } from '../tensor/infer-types.js';
import { rawBody, restContext } from './rest-plugin.js';
import {
  BINARY_HEADER,
  decodeInferRequest,
  decodeRawBinaryRequest,
  encodeInferResponse,
  parseJson,
} from './v2-codec.js';

interface ModelParams {
  name: string;
  version?: string;
}

/** Decode a V2 infer body: plain JSON, or JSON + binary tensors when Inference-Header-Content-Length is set. */
function decodeBody(
  dataplane: DataPlane,
  params: ModelParams,
  headers: FastifyRequest['headers'],
  body: Buffer,
): InferRequest {
  const header = headers[BINARY_HEADER];
  if (header === undefined) return decodeInferRequest(parseJson(body.toString('utf8')));
  const jsonLength = Number(header);
  if (!Number.isInteger(jsonLength) || jsonLength < 0) {
    throw new InvalidInput(`Inference-Header-Content-Length must be a non-negative integer, got "${String(header)}".`);
  }
  if (jsonLength > body.byteLength) {
    throw new InvalidInput(
      `Inference-Header-Content-Length is ${jsonLength} but the body has only ${body.byteLength} bytes (truncated body?).`,
    );
  }
  if (jsonLength === 0) {
    return decodeRawBinaryRequest(dataplane.modelMetadata(params.name, params.version).inputs, body);
  }
  const json = parseJson(body.toString('utf8', 0, jsonLength));
  return decodeInferRequest(json, body.subarray(jsonLength));
}

async function infer(dataplane: DataPlane, request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) {
  const { name, version } = request.params;
  const req = decodeBody(dataplane, request.params, request.headers, rawBody(request));
  const ctx = restContext(request, reply, 'v2', req.id);
  const res = await dataplane.inferV2(name, version, req, ctx);
  const encoded = encodeInferResponse(res, req);
  if (encoded.binary.length === 0) return reply.type('application/json').send(encoded.json);
  const head = Buffer.from(encoded.json, 'utf8');
  return reply
    .type('application/octet-stream')
    .header('Inference-Header-Content-Length', head.byteLength)
    .send(Buffer.concat([head, ...encoded.binary]));
}

/** The `parameters` of a repository load body (`{"parameters": {...}}`; an empty body has none). */
function loadRequestParameters(body: Buffer): unknown {
  if (body.byteLength === 0) return undefined;
  const json = parseJson(body.toString('utf8'));
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidInput('Load request body must be a JSON object, e.g. {"parameters": {}}.');
  }
  return (json as { parameters?: unknown }).parameters;
}

/** V2 / Open Inference Protocol routes, including the model repository extension. */
export function registerV2Routes(app: FastifyInstance, dataplane: DataPlane): void {
  app.get('/v2', async () => dataplane.serverMetadata());
  app.get('/v2/health/live', async () => ({ live: dataplane.live() }));
  app.get('/v2/health/ready', async (_request, reply) => {
    const ready = dataplane.ready();
    return reply.code(ready ? 200 : 503).send({ ready });
  });

  const metadata = async (request: FastifyRequest<{ Params: ModelParams }>) =>
    dataplane.modelMetadata(request.params.name, request.params.version);
  app.get('/v2/models/:name', metadata);
  app.get('/v2/models/:name/versions/:version', metadata);

  const ready = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const { name, version } = request.params;
    const isReady = dataplane.modelReady(name, version);
    return reply.code(isReady ? 200 : 503).send({ name, ready: isReady });
  };
  app.get('/v2/models/:name/ready', ready);
  app.get('/v2/models/:name/versions/:version/ready', ready);

  const inferRoute = (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) =>
    infer(dataplane, request, reply);
  app.post('/v2/models/:name/infer', inferRoute);
  app.post('/v2/models/:name/versions/:version/infer', inferRoute);

  app.post('/v2/repository/index', async () => dataplane.repository.index());
  app.post<{ Params: { name: string } }>('/v2/repository/models/:name/load', async (request) => {
    checkLoadParameters(request.params.name, loadRequestParameters(rawBody(request)));
    await dataplane.repository.load(request.params.name);
    return { name: request.params.name, load: true };
  });
  app.post<{ Params: { name: string } }>('/v2/repository/models/:name/unload', async (request) => {
    await dataplane.repository.unload(request.params.name);
    return { name: request.params.name, unload: true };
  });
}
