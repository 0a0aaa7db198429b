import type { InferRequest, InferResponse, InferTensor, Parameters } from '@servekit/core';
import { decodeJsonData, decodeRawData, encodeJsonData, encodeRawData, isDatatype } from '@servekit/core/wire';
import { ClientError } from './errors.js';

/** Header naming the length of the JSON part of a binary-extension body (either direction). */
export const INFERENCE_HEADER = 'inference-header-content-length';

/** How a V2 request goes on the wire. */
export interface RestEncodeOptions {
  /**
   * Send input tensors in the binary part (binary tensor data extension). Default false.
   * JSON carries INT64/UINT64 as numbers, exact only up to 2^53; binary is exact and avoids per-element work.
   */
  binary?: boolean;
  /** Ask the server for outputs in the binary part. Default false. */
  binaryOutputs?: boolean;
}

/** An encoded V2 REST request: body parts (written in order) and the headers they need. */
export interface EncodedRestRequest {
  /** Body parts: the JSON, then raw tensors when binary. */
  body: Uint8Array[];
  /** Content-Type and, for binary bodies, Inference-Header-Content-Length. */
  headers: Record<string, string>;
}

const utf8 = new TextEncoder();

/**
 * Encode an InferRequest as a V2 REST body: JSON `data` lists, or (with `binary`) a JSON header whose inputs
 * carry `binary_data_size`, followed by each input's raw bytes (typed arrays are sent as views, not copied).
 */
export function encodeRestRequest(request: InferRequest, options: RestEncodeOptions = {}): EncodedRestRequest {
  const raw: Uint8Array[] = [];
  const inputs = request.inputs.map((t) => {
    const out: Record<string, unknown> = { name: t.name, datatype: t.datatype, shape: t.shape };
    if (options.binary) {
      const bytes = encodeRawData(t.data);
      raw.push(bytes);
      out.parameters = { ...t.parameters, binary_data_size: bytes.byteLength };
    } else {
      if (t.parameters && Object.keys(t.parameters).length > 0) out.parameters = t.parameters;
      // 64-bit integers beyond 2^53 go as digit strings: a JSON number would be rounded by the server's parser.
      out.data = encodeJsonData(t.datatype, t.data).map((v) => (typeof v === 'bigint' ? v.toString() : v));
    }
    return out;
  });
  const body: Record<string, unknown> = {};
  if (request.id !== undefined) body.id = request.id;
  const parameters: Parameters = { ...request.parameters };
  if (options.binaryOutputs) parameters.binary_data_output = true;
  if (Object.keys(parameters).length > 0) body.parameters = parameters;
  body.inputs = inputs;
  if (request.outputs !== undefined) body.outputs = request.outputs;
  const json = utf8.encode(JSON.stringify(body));
  if (!options.binary) return { body: [json], headers: { 'content-type': 'application/json' } };
  return {
    body: [json, ...raw],
    headers: { 'content-type': 'application/octet-stream', [INFERENCE_HEADER]: String(json.byteLength) },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(message: string, cause?: unknown): ClientError {
  return new ClientError(`Malformed inference response: ${message}`, { cause });
}

/**
 * Decode a V2 REST response body into an InferResponse with typed-array outputs. `headerLength` is the
 * response's Inference-Header-Content-Length (binary extension); outputs with `binary_data_size` take their
 * bytes, in order, from the part after the JSON.
 */
export function decodeRestResponse(body: Buffer, headerLength?: number): InferResponse {
  const jsonEnd = headerLength ?? body.byteLength;
  if (!Number.isInteger(jsonEnd) || jsonEnd < 0 || jsonEnd > body.byteLength) {
    throw malformed(`Inference-Header-Content-Length ${headerLength} does not fit a ${body.byteLength}-byte body.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8', 0, jsonEnd));
  } catch (err) {
    throw malformed((err as Error).message, err);
  }
  if (!isObject(parsed) || !Array.isArray(parsed.outputs) || typeof parsed.model_name !== 'string') {
    throw malformed('expected an object with "model_name" and an "outputs" list.');
  }
  const binary = body.subarray(jsonEnd);
  let offset = 0;
  const outputs = parsed.outputs.map((o, i): InferTensor => {
    if (!isObject(o) || typeof o.name !== 'string' || !isDatatype(o.datatype) || !Array.isArray(o.shape)) {
      throw malformed(`outputs[${i}] needs "name", a known "datatype" and "shape".`);
    }
    const shape = o.shape.map(Number);
    const { binary_data_size: size, ...params } = isObject(o.parameters) ? (o.parameters as Parameters) : {};
    let data: InferTensor['data'];
    try {
      if (typeof size === 'number') {
        if (offset + size > binary.byteLength) {
          throw malformed(`output "${o.name}" needs ${size} binary bytes but ${binary.byteLength - offset} are left.`);
        }
        data = decodeRawData(o.name, o.datatype, shape, binary.subarray(offset, offset + size));
        offset += size;
      } else {
        data = decodeJsonData(o.name, o.datatype, shape, o.data);
      }
    } catch (err) {
      if (err instanceof ClientError) throw err;
      throw malformed((err as Error).message, err);
    }
    const t: InferTensor = { name: o.name, datatype: o.datatype, shape, data };
    if (Object.keys(params).length > 0) t.parameters = params;
    return t;
  });
  const res: InferResponse = { model_name: parsed.model_name, outputs };
  if (typeof parsed.model_version === 'string') res.model_version = parsed.model_version;
  if (typeof parsed.id === 'string') res.id = parsed.id;
  if (isObject(parsed.parameters)) res.parameters = parsed.parameters as Parameters;
  return res;
}
