import { clip, InvalidInput } from '../errors.js';
import { DEFAULT_REQUEST_LIMITS, DecodeBudget, type RequestLimits } from '../limits.js';
import type { TensorMetadata } from '../model/model.js';
import { decodeRawData, encodeRawData } from '../tensor/binary-codec.js';
import { byteSize, type Datatype, isDatatype } from '../tensor/datatypes.js';
import { checkedElementCount, decodeJsonData, decodeNumericBlock, encodeJsonData } from '../tensor/json-codec.js';
import type { NumericBlock } from '../tensor/json-numeric.js';
import { checkedOutput } from '../tensor/json-tensor.js';
import { stringifyJson } from '../tensor/json-text.js';
import type { InferRequest, InferResponse, InferTensor, Parameters, RequestedOutput } from './infer-types.js';

/** Header naming the length of the JSON part of a binary-extension body. */
export const BINARY_HEADER = 'inference-header-content-length';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parameters(where: string, v: unknown): Parameters | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new InvalidInput(`${where}: "parameters" must be an object.`);
  return v as Parameters;
}

/** `params` less `key`; undefined when nothing else is left (then no copy is made: a binary input's usual case). */
function parametersWithout(params: Parameters, key: string): Parameters | undefined {
  let other = false;
  for (const k in params) {
    if (k !== key && Object.hasOwn(params, k)) {
      other = true;
      break;
    }
  }
  if (!other) return undefined;
  const { [key]: _, ...rest } = params;
  return rest;
}

/** Parse JSON text, turning syntax errors into InvalidInput (no depth check: prefer `parseJsonChecked` on bytes). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInput(`Malformed JSON body: ${(err as Error).message}`);
  }
}

/** Options of {@link decodeInferRequest}. */
export interface DecodeRequestOptions {
  /** Budgets checked before each input is allocated (default {@link DEFAULT_REQUEST_LIMITS}). */
  limits?: RequestLimits;
  /** Numeric `data` lists taken out of the body by `parseV2JsonBody`, by the placeholder that replaced them. */
  numericData?: ReadonlyMap<string, NumericBlock>;
}

/**
 * Decode a V2 JSON request object into an InferRequest. With `binary`, inputs carrying
 * `parameters.binary_data_size` take their bytes, in order, from it (the binary tensor extension).
 * Every input is checked: a unique string name, a known datatype, a valid shape, data that fills the shape with
 * values of the datatype, and the request's decoded size within `limits.maxDecodedBytes` before allocating.
 */
export function decodeInferRequest(
  body: unknown,
  binary?: Uint8Array,
  options: DecodeRequestOptions = {},
): InferRequest {
  if (!isObject(body)) throw new InvalidInput('Request body must be a JSON object with an "inputs" list.');
  // An empty list is allowed: some models take no input (e.g. TF signatures that read a variable).
  if (!Array.isArray(body.inputs)) throw new InvalidInput('Request body must have an "inputs" list.');
  const budget = new DecodeBudget(options.limits ?? DEFAULT_REQUEST_LIMITS);
  const seen = body.inputs.length > 1 ? new Set<string>() : undefined; // names seen (no set for one input)
  let offset = 0;
  const list: unknown[] = body.inputs;
  const inputs = new Array<InferTensor>(list.length);
  // A loop, not `map`: no closure (nor the context object its captured variables would need) per request.
  for (let i = 0; i < list.length; i++) {
    const raw = list[i];
    if (!isObject(raw)) throw new InvalidInput(`inputs[${i}] must be an object.`);
    const name = raw.name;
    if (typeof name !== 'string' || name === '') throw new InvalidInput(`inputs[${i}] needs a string "name".`);
    const shown = clip(name);
    if (seen?.has(name)) throw new InvalidInput(`Input "${shown}" appears more than once in the request.`);
    seen?.add(name);
    const { datatype, shape } = raw;
    if (!isDatatype(datatype)) {
      throw new InvalidInput(`Input "${shown}": unknown datatype ${clip(String(JSON.stringify(datatype)), 40)}.`);
    }
    const count = checkedElementCount(name, shape);
    const dims = shape as number[];
    const params = parameters(`Input "${shown}"`, raw.parameters);
    const size = params?.binary_data_size;
    let data: InferTensor['data'];
    if (size !== undefined && size !== null) {
      if (!binary) {
        throw new InvalidInput(
          `Input "${shown}" has binary_data_size but the request has no binary part (missing Inference-Header-Content-Length header?).`,
        );
      }
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        throw new InvalidInput(`Input "${shown}": binary_data_size must be a non-negative integer.`);
      }
      if (offset + size > binary.byteLength) {
        throw new InvalidInput(
          `Input "${shown}": binary_data_size ${size} runs past the end of the body (${binary.byteLength - offset} bytes left).`,
        );
      }
      budget.take(datatype === 'BYTES' ? size : count * byteSize(datatype), `Input "${shown}"`);
      data = decodeRawData(name, datatype, dims, binary.subarray(offset, offset + size));
      offset += size;
    } else {
      if (raw.data === undefined) throw new InvalidInput(`Input "${shown}" has no "data".`);
      const block = typeof raw.data === 'string' ? options.numericData?.get(raw.data) : undefined;
      data = block
        ? decodeNumericBlock(name, datatype, dims, block, { budget })
        : decodeJsonData(name, datatype, dims, raw.data, { budget });
    }
    const t: InferTensor = { name, datatype, shape: dims, data };
    if (params) {
      const rest = parametersWithout(params, 'binary_data_size');
      if (rest) t.parameters = rest;
    }
    inputs[i] = t;
  }
  if (binary && offset !== binary.byteLength) {
    throw new InvalidInput(`Binary body has ${binary.byteLength - offset} bytes not claimed by any input.`);
  }
  const req: InferRequest = { inputs };
  if (body.id !== undefined) {
    if (typeof body.id !== 'string') throw new InvalidInput('"id" must be a string.');
    req.id = body.id;
  }
  const params = parameters('Request', body.parameters);
  if (params) req.parameters = params;
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw new InvalidInput('"outputs" must be a list.');
    req.outputs = body.outputs.map((o, i): RequestedOutput => {
      if (!isObject(o) || typeof o.name !== 'string') throw new InvalidInput(`outputs[${i}] needs a string "name".`);
      const p = parameters(`Output "${clip(o.name)}"`, o.parameters);
      return p ? { name: o.name, parameters: p } : { name: o.name };
    });
  }
  return req;
}

/**
 * A body sent with `Inference-Header-Content-Length: 0` (Triton's raw binary request): the whole body is
 * the single input of the model. Datatype and shape come from the model metadata (one -1 dim is inferred).
 */
export function decodeRawBinaryRequest(inputs: TensorMetadata[], body: Uint8Array): InferRequest {
  if (inputs.length !== 1) {
    throw new InvalidInput(
      `A raw binary request (Inference-Header-Content-Length: 0) needs a model with exactly one input; this one has ${inputs.length}.`,
    );
  }
  const meta = inputs[0]!;
  const datatype: Datatype = meta.datatype;
  if (datatype === 'BYTES') return { inputs: [{ name: meta.name, datatype, shape: [1], data: [body] }] };
  const elements = body.byteLength / byteSize(datatype);
  const known = meta.shape.reduce((a, d) => (d > 0 ? a * d : a), 1);
  const dynamic = meta.shape.filter((d) => d < 0).length;
  if (!Number.isInteger(elements) || dynamic > 1 || elements % known !== 0 || (dynamic === 0 && elements !== known)) {
    throw new InvalidInput(
      `Raw binary body of ${body.byteLength} bytes does not fit input "${meta.name}" ${datatype} ${JSON.stringify(meta.shape)}.`,
    );
  }
  const shape = meta.shape.map((d) => (d < 0 ? elements / known : d));
  return { inputs: [{ name: meta.name, datatype, shape, data: decodeRawData(meta.name, datatype, shape, body) }] };
}

/** True when an output should be sent in the binary part of the response. */
function wantsBinary(t: InferTensor, request: InferRequest): boolean {
  const own = t.parameters?.binary_data;
  if (own !== undefined) return own === true;
  return request.parameters?.binary_data_output === true;
}

/** An output's parameters less `binary_data` (the request's choice, not sent back); undefined when none is left. */
function parametersWithoutBinaryData(params: Parameters | undefined): Parameters | undefined {
  if (params === undefined) return undefined; // the common case: no object to copy
  const { binary_data: _, ...rest } = params;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/** An encoded V2 response: a JSON string, or a JSON header plus binary parts (binary extension). */
export interface EncodedResponse {
  /** The JSON part. */
  json: string;
  /** Binary parts in output order; empty when no output is binary. */
  binary: Uint8Array[];
}

/** Encode an InferResponse as V2 JSON, moving outputs that ask for it into the binary part. */
export function encodeInferResponse(res: InferResponse, request: InferRequest): EncodedResponse {
  const binary: Uint8Array[] = [];
  const n = res.outputs.length;
  const outputs = new Array<JsonOutput>(n);
  for (let i = 0; i < n; i++) {
    const t = checkedOutput(res.outputs[i]!);
    const rest = parametersWithoutBinaryData(t.parameters);
    if (wantsBinary(t, request)) {
      const raw = encodeRawData(t.data);
      binary.push(raw);
      outputs[i] = jsonOutput(t, { ...rest, binary_data_size: raw.byteLength }, undefined);
    } else {
      outputs[i] = jsonOutput(t, rest, encodeJsonData(t.datatype, t.data));
    }
  }
  // One object shape whatever is set: JSON leaves out the keys whose value is undefined (same text as before).
  const body = {
    model_name: res.model_name,
    model_version: res.model_version,
    id: res.id,
    parameters: res.parameters,
    outputs,
  };
  return { json: stringifyJson(body), binary };
}

/** An output as the JSON response writes it (keys in this order; undefined ones are left out of the text). */
interface JsonOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Parameters | undefined;
  data: unknown[] | undefined;
}

function jsonOutput(t: InferTensor, parameters: Parameters | undefined, data: unknown[] | undefined): JsonOutput {
  return { name: t.name, datatype: t.datatype, shape: t.shape, parameters, data };
}
