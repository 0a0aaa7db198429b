import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DataPlane } from '../dataplane.js';
import { clip, InvalidInput, redactPaths } from '../errors.js';
import { registerTritonExtensionRoutes } from '../extensions/rest-routes.js';
import { checkLoadParameters } from '../model/load-parameters.js';
import { parseV2JsonBody } from '../tensor/json-numeric.js';
import { parseJsonChecked } from '../tensor/json-text.js';
import type { InferRequest } from './infer-types.js';
import { sendJson } from './json-reply.js';
import { checkJsonSize, rawBody, restContext } from './rest-helpers.js';
import { BINARY_HEADER, decodeInferRequest, decodeRawBinaryRequest, encodeInferResponse } from './v2-codec.js';

interface ModelParams {
  name: string;
  version?: string;
}

/** The JSON length of a binary-extension body: plain decimal digits, no more than the body holds. */
function jsonLengthOf(header: string | string[], bodyLength: number): number {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!/^[0-9]{1,16}$/.test(text)) {
    throw new InvalidInput(
      `Inference-Header-Content-Length must be a non-negative decimal integer, got "${clip(text, 40)}".`,
    );
  }
  const length = Number(text);
  if (length > bodyLength) {
    throw new InvalidInput(
      `Inference-Header-Content-Length is ${length} but the body has only ${bodyLength} bytes (truncated body?).`,
    );
  }
  return length;
}

/** Decode a V2 infer body: plain JSON, or JSON + binary tensors when Inference-Header-Content-Length is set. */
function decodeBody(
  dataplane: DataPlane,
  params: ModelParams,
  headers: FastifyRequest['headers'],
  body: Buffer,
): InferRequest {
  const { limits } = dataplane;
  const header = headers[BINARY_HEADER];
  if (header === undefined) {
    checkJsonSize(body.byteLength, limits);
    const parsed = parseV2JsonBody(body, limits.maxJsonDepth);
    return decodeInferRequest(parsed.body, undefined, { limits, numericData: parsed.blocks });
  }
  const jsonLength = jsonLengthOf(header, body.byteLength);
  if (jsonLength === 0) {
    return decodeRawBinaryRequest(dataplane.modelMetadata(params.name, params.version).inputs, body);
  }
  checkJsonSize(jsonLength, limits);
  const parsed = parseV2JsonBody(body.subarray(0, jsonLength), limits.maxJsonDepth);
  return decodeInferRequest(parsed.body, body.subarray(jsonLength), { limits, numericData: parsed.blocks });
}

async function infer(dataplane: DataPlane, request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) {
  const { name, version } = request.params;
  const req = decodeBody(dataplane, request.params, request.headers, rawBody(request));
  const ctx = restContext(request, reply, 'v2', req.id);
  const res = await dataplane.inferV2(name, version, req, ctx);
  const encoded = encodeInferResponse(res, req);
  if (encoded.binary.length === 0) return sendJson(reply, encoded.json);
  const head = Buffer.from(encoded.json, 'utf8');
  return reply
    .type('application/octet-stream')
    .header('Inference-Header-Content-Length', head.byteLength)
    .send(Buffer.concat([head, ...encoded.binary]));
}

/** The `parameters` of a repository load body (`{"parameters": {...}}`; an empty body has none). */
function loadRequestParameters(body: Buffer, maxJsonDepth: number): unknown {
  if (body.byteLength === 0) return undefined;
  const json = parseJsonChecked(body, maxJsonDepth);
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

  // Load failures may quote file paths: clients get them relative (or cut to the last segment).
  app.post('/v2/repository/index', async () =>
    dataplane.repository.index().map((e) => (e.reason === undefined ? e : { ...e, reason: redactPaths(e.reason) })),
  );
  app.post<{ Params: { name: string } }>('/v2/repository/models/:name/load', async (request) => {
    checkLoadParameters(request.params.name, loadRequestParameters(rawBody(request), dataplane.limits.maxJsonDepth));
    await dataplane.repository.load(request.params.name);
    return { name: request.params.name, load: true };
  });
  app.post<{ Params: { name: string } }>('/v2/repository/models/:name/unload', async (request) => {
    await dataplane.repository.unload(request.params.name);
    return { name: request.params.name, unload: true };
  });
  registerTritonExtensionRoutes(app, dataplane);
}
