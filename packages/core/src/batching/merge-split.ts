import { InferenceError } from '../errors.js';
import { allocate, type BytesArray, type FixedDatatype, type NumericArray } from '../tensor/datatypes.js';
import {
  elementCount,
  type InferRequest,
  type InferResponse,
  type InferTensor,
  isInferRequest,
  isInferResponse,
  type Payload,
  type Result,
  type V1Request,
  type V1Response,
} from '../tensor/infer-types.js';

/** How a payload batches: its row count and compatibility key, or `undefined` when it must run alone. */
export interface BatchShape {
  /** Rows along dim 0 (V1: number of instances). */
  rows: number;
  /** Requests with equal keys may be merged. */
  key: string;
}

function paramsKey(p: unknown): string {
  return p === undefined ? '' : JSON.stringify(p);
}

/**
 * Rows and compatibility key of a payload. V2: every input must share dim 0; the key covers input names,
 * datatypes, non-batch dims and parameters, requested outputs and request parameters. V1: `instances` rows;
 * the key covers every other field. Returns undefined for payloads that cannot batch (scalars, ragged dim 0,
 * V1 columnar `inputs`, empty requests).
 */
export function batchShape(payload: Payload): BatchShape | undefined {
  if (isInferRequest(payload)) {
    const first = payload.inputs[0];
    if (!first || first.shape.length === 0) return undefined;
    const rows = first.shape[0]!;
    if (rows === 0) return undefined;
    const parts: string[] = [];
    for (const t of payload.inputs) {
      if (t.shape.length === 0 || t.shape[0] !== rows) return undefined;
      parts.push(`${t.name}|${t.datatype}|${t.shape.slice(1).join(',')}|${paramsKey(t.parameters)}`);
    }
    parts.sort();
    const outs = (payload.outputs ?? []).map((o) => `${o.name}|${paramsKey(o.parameters)}`).join(';');
    return { rows, key: `v2\u0000${parts.join('\u0001')}\u0000${outs}\u0000${paramsKey(payload.parameters)}` };
  }
  const body = payload as V1Request;
  if (!Array.isArray(body.instances) || body.instances.length === 0 || body.inputs !== undefined) return undefined;
  const { instances: _, ...rest } = body;
  return { rows: body.instances.length, key: `v1\u0000${JSON.stringify(rest)}` };
}

/** Concatenate same-named tensors along dim 0 with one allocation (BYTES: one array). */
function concatTensors(parts: InferTensor[]): InferTensor {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const rows = parts.reduce((n, t) => n + t.shape[0]!, 0);
  const shape = [rows, ...first.shape.slice(1)];
  let data: InferTensor['data'];
  if (first.datatype === 'BYTES') {
    data = ([] as BytesArray).concat(...parts.map((t) => t.data as BytesArray));
  } else {
    // One allocation; `set` copies each part (typed arrays of one datatype share an element type).
    const out = allocate(first.datatype as FixedDatatype, elementCount(shape)) as unknown as {
      set(a: NumericArray, offset: number): void;
    };
    let offset = 0;
    for (const t of parts) {
      const src = t.data as NumericArray;
      out.set(src, offset);
      offset += src.length;
    }
    data = out as unknown as NumericArray;
  }
  const merged: InferTensor = { name: first.name, datatype: first.datatype, shape, data };
  if (first.parameters) merged.parameters = first.parameters;
  return merged;
}

/** Merge compatible payloads (same `batchShape` key) into one: tensors concatenated, V1 instances joined. */
export function mergePayloads(payloads: Payload[]): Payload {
  if (payloads.length === 1) return payloads[0]!;
  const first = payloads[0]!;
  if (isInferRequest(first)) {
    const requests = payloads as InferRequest[];
    const inputs = first.inputs.map((t) =>
      concatTensors(requests.map((r) => r.inputs.find((x) => x.name === t.name) ?? t)),
    );
    const merged: InferRequest = { inputs };
    if (first.parameters) merged.parameters = first.parameters;
    if (first.outputs) merged.outputs = first.outputs;
    return merged;
  }
  const bodies = payloads as V1Request[];
  return { ...bodies[0], instances: bodies.flatMap((b) => b.instances ?? []) };
}

function sliceTensor(t: InferTensor, start: number, end: number, totalRows: number, model: string): InferTensor {
  if (t.shape.length === 0 || t.shape[0] !== totalRows) {
    throw new InferenceError(
      `Model ${model} output "${t.name}" has shape ${JSON.stringify(t.shape)} but the batch had ${totalRows} rows; it cannot be split per request.`,
    );
  }
  const stride = elementCount(t.shape.slice(1));
  const data = Array.isArray(t.data)
    ? t.data.slice(start * stride, end * stride)
    : (t.data as NumericArray).subarray(start * stride, end * stride);
  const out: InferTensor = { name: t.name, datatype: t.datatype, shape: [end - start, ...t.shape.slice(1)], data };
  if (t.parameters) out.parameters = t.parameters;
  return out;
}

/**
 * Split a batch result back per member (`rows` in member order): V2 outputs sliced along dim 0 (views,
 * no copy), V1 `predictions` sliced by instance count. Each V2 member keeps its own request id.
 */
export function splitResult(result: Result, members: Payload[], rows: number[], model: string): Result[] {
  const total = rows.reduce((a, b) => a + b, 0);
  if (isInferResponse(result)) {
    let start = 0;
    return rows.map((n, i) => {
      const end = start + n;
      const outputs = result.outputs.map((t) => sliceTensor(t, start, end, total, model));
      start = end;
      const res: InferResponse = { model_name: result.model_name, outputs };
      if (result.model_version !== undefined) res.model_version = result.model_version;
      if (result.parameters !== undefined) res.parameters = result.parameters;
      const id = (members[i] as InferRequest).id;
      if (id !== undefined) res.id = id;
      return res;
    });
  }
  const body = result as V1Response;
  if (!Array.isArray(body.predictions) || body.predictions.length !== total) {
    throw new InferenceError(
      `Model ${model} returned ${Array.isArray(body.predictions) ? body.predictions.length : 'no'} predictions for a batch of ${total} instances.`,
    );
  }
  let start = 0;
  return rows.map((n) => {
    const part: V1Response = { ...body, predictions: body.predictions!.slice(start, start + n) };
    start += n;
    return part;
  });
}
