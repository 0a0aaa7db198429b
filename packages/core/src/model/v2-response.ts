import { InvalidInput } from '../errors.js';
import { type InferRequest, type InferResponse, isInferResponse, type Result } from '../protocols/infer-types.js';
import { v1ToResponse } from '../protocols/v1-v2.js';

/**
 * The V2 response a server sends for `request` from model `name`'s result: a V1 result becomes tensors,
 * `model_name`, `model_version` (when given) and the request's `id` are set, and the requested outputs are
 * selected in the requested order with their parameters merged in. A requested output the model did not produce
 * is an InvalidInput.
 */
export function v2Response(name: string, result: Result, request: InferRequest, version?: string): InferResponse {
  const res = isInferResponse(result) ? { ...result } : v1ToResponse(name, result);
  res.model_name = name;
  if (version !== undefined) res.model_version = version;
  if (request.id !== undefined) res.id = request.id;
  if (request.outputs && request.outputs.length > 0) res.outputs = selectOutputs(res, request);
  return res;
}

/** The requested outputs of `res`, in the requested order, each with the request's parameters merged in. */
function selectOutputs(res: InferResponse, request: InferRequest): InferResponse['outputs'] {
  const byName = new Map(res.outputs.map((t) => [t.name, t]));
  return (request.outputs ?? []).map((o) => {
    const t = byName.get(o.name);
    if (!t) {
      throw new InvalidInput(
        `Requested output "${o.name}" is not produced by model ${res.model_name} (outputs: ${[...byName.keys()].join(', ')}).`,
      );
    }
    return o.parameters ? { ...t, parameters: { ...t.parameters, ...o.parameters } } : t;
  });
}
