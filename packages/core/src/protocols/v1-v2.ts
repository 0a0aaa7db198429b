import { tensorFromJson, tensorToJson } from '../tensor/json-tensor.js';
import type { InferResponse, InferTensor, V1Response } from './infer-types.js';

/**
 * A V2 response as a V1 body: one output → `predictions` nested by its shape;
 * several outputs → one object per row, `{output_name: row}` (TF Serving's row format).
 */
export function responseToV1(res: InferResponse): V1Response {
  if (res.outputs.length === 1) {
    const value = tensorToJson(res.outputs[0]!);
    return { predictions: Array.isArray(value) ? value : [value] };
  }
  const rows = res.outputs.length === 0 ? 0 : (res.outputs[0]!.shape[0] ?? 1);
  const columns = res.outputs.map((t) => {
    const v = tensorToJson(t);
    return { name: t.name, rows: Array.isArray(v) && t.shape[0] === rows ? v : null, whole: v };
  });
  const predictions = Array.from({ length: rows }, (_, i) => {
    const row: Record<string, unknown> = {};
    for (const c of columns) row[c.name] = c.rows ? c.rows[i] : c.whole;
    return row;
  });
  return { predictions };
}

/** A V1 body as a V2 response: `predictions` becomes one tensor named `predictions` (other fields likewise). */
export function v1ToResponse(modelName: string, body: V1Response, id?: string): InferResponse {
  const outputs: InferTensor[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined) continue;
    outputs.push(tensorFromJson(key, value));
  }
  const res: InferResponse = { model_name: modelName, outputs };
  if (id !== undefined) res.id = id;
  return res;
}
