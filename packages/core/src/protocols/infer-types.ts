import type { Datatype, TensorData } from '../tensor/datatypes.js';

/** Free-form request/response parameters (OIP `parameters`). */
export type Parameters = Record<string, string | number | boolean | null | undefined>;

/** One named tensor. `data` is a typed array (or byte strings for BYTES), row-major. */
export interface InferTensor {
  /** Tensor name. */
  name: string;
  /** V2 datatype. */
  datatype: Datatype;
  /** Shape; the product of the dims equals the element count of `data`. */
  shape: number[];
  /** Elements, row-major. */
  data: TensorData;
  /** Per-tensor parameters (e.g. `content_type`, `binary_data`). */
  parameters?: Parameters;
}

/** An output the client asks for, with its own parameters (e.g. `binary_data`). */
export interface RequestedOutput {
  /** Output name. */
  name: string;
  /** Per-output parameters. */
  parameters?: Parameters;
}

/** A V2 inference request, decoded from any transport. */
export interface InferRequest {
  /** Request id, echoed in the response. */
  id?: string;
  /** Request parameters. */
  parameters?: Parameters;
  /** Input tensors. */
  inputs: InferTensor[];
  /** Outputs to return; all when absent. */
  outputs?: RequestedOutput[];
}

/** A V2 inference response, before encoding to any transport. */
export interface InferResponse {
  /** Model name. */
  model_name: string;
  /** Model version, when versioned. */
  model_version?: string;
  /** The request id. */
  id?: string;
  /** Response parameters. */
  parameters?: Parameters;
  /** Output tensors. */
  outputs: InferTensor[];
}

/** A KServe V1 request body: `instances` (rows) or `inputs` (columnar). */
export interface V1Request {
  /** Row-format instances. */
  instances?: unknown[];
  /** Columnar inputs (TF Serving style). */
  inputs?: unknown;
  /** Optional parameters (servekit extension, e.g. `predict_proba`). */
  parameters?: Parameters;
  /** Any other field the client sent. */
  [key: string]: unknown;
}

/** A KServe V1 response body. */
export interface V1Response {
  /** One prediction per instance. */
  predictions?: unknown[];
  /** Columnar outputs (TF Serving style). */
  outputs?: unknown;
  /** Any other field a model returns (e.g. `explanations`). */
  [key: string]: unknown;
}

/** What a model's hooks receive: a decoded V2 request or a V1 body. */
export type Payload = InferRequest | V1Request;

/** What a model's hooks return: a V2 response or a V1 body. */
export type Result = InferResponse | V1Response;

/** True when `p` is a V2 request (it carries an `inputs` array of tensors with datatypes). */
export function isInferRequest(p: Payload): p is InferRequest {
  const inputs = (p as InferRequest).inputs;
  return (
    Array.isArray(inputs) && inputs.every((t) => t !== null && typeof t === 'object' && 'datatype' in t && 'data' in t)
  );
}

/** True when `r` is a V2 response (it carries an `outputs` array of tensors). */
export function isInferResponse(r: Result): r is InferResponse {
  const outputs = (r as InferResponse).outputs;
  return (
    Array.isArray(outputs) &&
    outputs.every((t) => t !== null && typeof t === 'object' && 'datatype' in t && 'data' in t)
  );
}

/** Product of the dims of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
