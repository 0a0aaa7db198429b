import type { InferRequest, InferResponse } from '@servekit/core';
import {
  decodeGrpcRequest,
  encodeGrpcResponse,
  fromGrpcParameters,
  type GrpcInferRequest,
  type GrpcParameter,
  type GrpcTensor,
  toGrpcParameters,
} from '@servekit/core/wire';
import { ClientError } from './errors.js';

/** ModelInferResponse as decoded by proto-loader (core's PROTO_OPTIONS). */
export interface GrpcInferResponseMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, GrpcParameter>;
  outputs?: GrpcTensor[];
  raw_output_contents?: Uint8Array[];
}

/**
 * An InferRequest as a ModelInferRequest: `raw_input_contents` (typed arrays as views) by default,
 * typed `contents` with `typed` (FP16/BF16 always go raw: the proto has no typed field for them).
 * Reuses core's tensor → gRPC encoding: request inputs are encoded exactly like response outputs.
 */
export function encodeGrpcRequest(
  model: string,
  version: string | undefined,
  request: InferRequest,
  typed = false,
): GrpcInferRequest {
  const asOutputs = encodeGrpcResponse({ model_name: model, outputs: request.inputs }, !typed);
  const msg: GrpcInferRequest = {
    model_name: model,
    model_version: version ?? '',
    id: request.id ?? '',
    parameters: toGrpcParameters(request.parameters),
    inputs: asOutputs.outputs,
    raw_input_contents: asOutputs.raw_output_contents,
  };
  if (request.outputs) {
    msg.outputs = request.outputs.map((o) => ({ name: o.name, parameters: toGrpcParameters(o.parameters) }));
  }
  return msg;
}

/**
 * A ModelInferResponse as an InferResponse with typed-array outputs (raw contents become views).
 * Reuses core's gRPC → tensor decoding: response outputs decode exactly like request inputs.
 */
export function decodeGrpcResponse(msg: GrpcInferResponseMessage): InferResponse {
  const res: InferResponse = { model_name: msg.model_name ?? '', outputs: [] };
  if (msg.model_version) res.model_version = msg.model_version;
  if (msg.id) res.id = msg.id;
  const params = fromGrpcParameters(msg.parameters);
  if (params) res.parameters = params;
  const outputs = msg.outputs ?? [];
  if (outputs.length === 0) return res;
  try {
    res.outputs = decodeGrpcRequest({
      model_name: res.model_name,
      inputs: outputs,
      raw_input_contents: msg.raw_output_contents,
    }).request.inputs;
  } catch (err) {
    throw new ClientError(`Malformed ModelInferResponse: ${(err as Error).message}`, { cause: err });
  }
  return res;
}
