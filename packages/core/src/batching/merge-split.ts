// Merging compatible requests into one batch payload and splitting the batch result back per request.
import { InferenceError } from '../errors.js';
import {
  elementCount,
  type InferRequest,
  type InferResponse,
  type InferTensor,
  isInferRequest,
  isInferResponse,
  type Parameters,
  type Payload,
  type Result,
  type V1Request,
  type V1Response,
} from '../protocols/infer-types.js';
import { allocate, type BytesArray, type FixedDatatype, type NumericArray } from '../tensor/datatypes.js';
import { markOwnedBuffer } from '../tensor/owned-buffers.js';

/** How a payload batches: its row count and compatibility key. */
export interface BatchShape {
  /** Rows along dim 0 (V1: number of instances). */
  rows: number;
  /** Requests with equal keys may be merged. */
  key: string;
}

/**
 * Parameters that only steer the wire encoding of one request (binary tensor extension). They never reach
 * the model's maths, so they neither split batches nor appear in a merged payload; the transport reads
 * them from each caller's own request.
 */
const TRANSPORT_PARAMETERS: ReadonlySet<string> = new Set(['binary_data', 'binary_data_output', 'binary_data_size']);

/** `p` without transport-only parameters; undefined when nothing is left. */
function modelParameters(p: Parameters | undefined): Parameters | undefined {
  if (p === undefined) return undefined;
  let out: Parameters | undefined;
  for (const k in p) {
    if (!Object.hasOwn(p, k)) continue;
    if (TRANSPORT_PARAMETERS.has(k)) continue;
    out ??= {};
    out[k] = p[k];
  }
  return out;
}

/** Order-independent key of a parameter map (transport-only keys left out). */
function paramsKey(p: Parameters | undefined): string {
  const m = modelParameters(p);
  if (m === undefined) return '';
  return JSON.stringify(
    Object.keys(m)
      .sort()
      .map((k) => [k, m[k]]),
  );
}

/** Element count of a tensor's data (BYTES: number of strings). */
function dataLength(t: InferTensor): number {
  return (t.data as ArrayLike<unknown>).length;
}

/** A V2 input's part of the compatibility key: name, datatype, dims past dim 0, model parameters. */
function inputKey(t: InferTensor): string {
  let dims = '';
  for (let d = 1; d < t.shape.length; d++) dims += d === 1 ? `${t.shape[d]}` : `,${t.shape[d]}`;
  return `${t.name}\u0002${t.datatype}\u0002${dims}\u0002${paramsKey(t.parameters)}`;
}

/** True when `p` holds a parameter that is not transport-only (no copy made). */
function hasModelParameters(p: Parameters | undefined): boolean {
  if (p === undefined) return false;
  for (const k in p) if (Object.hasOwn(p, k) && !TRANSPORT_PARAMETERS.has(k)) return true;
  return false;
}

/** The last key `plainSingleInputKey` made, with the input signature it stands for. */
let lastPlainKey: { name: string; datatype: string; shape: number[]; key: string } | undefined;

/**
 * The key of a V2 request with one input and no requested outputs nor model parameters (the usual batched request).
 * While requests keep one signature the same string is returned: no string built per request, and the queue lookup
 * reuses the string's cached hash.
 */
function plainSingleInputKey(t: InferTensor): string {
  const last = lastPlainKey;
  if (
    last !== undefined &&
    last.name === t.name &&
    last.datatype === t.datatype &&
    !hasModelParameters(t.parameters) &&
    sameDimsPastFirst(last.shape, t.shape)
  ) {
    return last.key;
  }
  const key = `v2\u0000${inputKey(t)}\u0000\u0000`;
  if (!hasModelParameters(t.parameters)) {
    lastPlainKey = { name: t.name, datatype: t.datatype, shape: t.shape.slice(), key };
  }
  return key;
}

/** True when two shapes agree past dim 0. */
function sameDimsPastFirst(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let d = 1; d < a.length; d++) if (a[d] !== b[d]) return false;
  return true;
}

/**
 * Rows and compatibility key of a payload, or undefined when it must run alone.
 * V2: every input must have a dim 0 of the same size and data matching its shape; the key covers input
 * names, datatypes, non-batch dims and parameters, the requested outputs (in order) with their parameters,
 * and the request parameters (never the id, never transport-only parameters). V1: the `instances` rows;
 * the key covers every other field. Cannot batch: scalars, ragged or zero dim 0, data not matching the
 * shape (the model should report that error to this request alone), V1 columnar `inputs`, empty requests.
 */
export function batchShape(payload: Payload): BatchShape | undefined {
  if (isInferRequest(payload)) {
    const first = payload.inputs[0];
    if (!first || first.shape.length === 0) return undefined;
    const rows = first.shape[0]!;
    if (!(rows > 0)) return undefined;
    const inputs = payload.inputs;
    let joined: string;
    if (inputs.length === 1) {
      // One input (the common case): its key alone, no list to sort.
      if (dataLength(first) !== elementCount(first.shape)) return undefined;
      if (payload.outputs === undefined && !hasModelParameters(payload.parameters)) {
        return { rows, key: plainSingleInputKey(first) };
      }
      joined = inputKey(first);
    } else {
      const parts: string[] = [];
      for (const t of inputs) {
        if (t.shape.length === 0 || t.shape[0] !== rows || dataLength(t) !== elementCount(t.shape)) return undefined;
        parts.push(inputKey(t));
      }
      parts.sort();
      joined = parts.join('\u0001');
    }
    const outs = payload.outputs
      ? payload.outputs.map((o) => `${o.name}\u0002${paramsKey(o.parameters)}`).join('\u0001')
      : '';
    return { rows, key: `v2\u0000${joined}\u0000${outs}\u0000${paramsKey(payload.parameters)}` };
  }
  const body = payload as V1Request;
  if (!Array.isArray(body.instances) || body.instances.length === 0 || body.inputs !== undefined) return undefined;
  const { instances: _, ...rest } = body;
  return { rows: body.instances.length, key: `v1\u0000${JSON.stringify(rest)}` };
}

/**
 * Concatenate same-named tensors along dim 0: one allocation, one `set` per part (BYTES: one array). The typed array
 * is marked owned (`markOwnedBuffer`): the merged tensor must feed one inference and not be read after it.
 */
export function concatTensors(parts: InferTensor[]): InferTensor {
  const first = parts[0]!;
  let rows = 0;
  for (const t of parts) rows += t.shape[0]!;
  const shape = [rows, ...first.shape.slice(1)];
  const total = elementCount(shape);
  let data: InferTensor['data'];
  if (first.datatype === 'BYTES') {
    const out: BytesArray = new Array(total);
    let offset = 0;
    for (const t of parts) {
      const src = t.data as BytesArray;
      for (let i = 0; i < src.length; i++) out[offset + i] = src[i]!;
      offset += src.length;
    }
    data = out;
  } else {
    // Typed arrays of one datatype share an element type, so `set` is a plain memory copy.
    const out = allocate(first.datatype as FixedDatatype, total) as { set(a: ArrayLike<unknown>, o: number): void };
    let offset = 0;
    for (const t of parts) {
      const src = t.data as NumericArray;
      out.set(src, offset);
      offset += src.length;
    }
    // Fresh and read by this batch's inference alone: a worker-thread session may transfer it instead of copying.
    markOwnedBuffer(out as unknown as ArrayBufferView);
    data = out as unknown as NumericArray;
  }
  const merged: InferTensor = { name: first.name, datatype: first.datatype, shape, data };
  const params = modelParameters(first.parameters);
  if (params) merged.parameters = params;
  return merged;
}

/**
 * Merge payloads that share a `batchShape` key into one: V2 inputs concatenated along dim 0 (in member
 * order), V1 `instances` joined. A single payload is returned as is.
 */
export function mergePayloads(payloads: Payload[]): Payload {
  if (payloads.length === 1) return payloads[0]!;
  const first = payloads[0]!;
  if (isInferRequest(first)) {
    const requests = payloads as InferRequest[];
    const inputs = first.inputs.map((t, i) =>
      concatTensors(
        requests.map((r) => {
          const same = r.inputs[i];
          return same?.name === t.name ? same : r.inputs.find((x) => x.name === t.name)!;
        }),
      ),
    );
    const merged: InferRequest = { inputs };
    const params = modelParameters(first.parameters);
    if (params) merged.parameters = params;
    if (first.outputs) {
      merged.outputs = first.outputs.map((o) => {
        const p = modelParameters(o.parameters);
        return p ? { name: o.name, parameters: p } : { name: o.name };
      });
    }
    return merged;
  }
  const bodies = payloads as V1Request[];
  return { ...bodies[0], instances: bodies.flatMap((b) => b.instances ?? []) };
}

/** Rows `start..end` of a tensor: a view for typed arrays, a slice for BYTES. */
export function sliceTensor(t: InferTensor, start: number, end: number): InferTensor {
  const tail = t.shape.slice(1);
  return rowsOf(t, elementCount(tail), tail, start, end);
}

/** `sliceTensor` with the tensor's elements per row (`stride`) and shape past dim 0 (`tail`) known. */
function rowsOf(t: InferTensor, stride: number, tail: number[], start: number, end: number): InferTensor {
  const data = Array.isArray(t.data)
    ? t.data.slice(start * stride, end * stride)
    : (t.data as NumericArray).subarray(start * stride, end * stride);
  const out: InferTensor = { name: t.name, datatype: t.datatype, shape: [end - start, ...tail], data };
  if (t.parameters) out.parameters = t.parameters;
  return out;
}

/** Throws unless output `t` has dim 0 equal to the batch's rows and data matching its shape. */
function checkSplittable(t: InferTensor, totalRows: number, members: number, model: string): void {
  const rows = t.shape.length === 0 ? undefined : t.shape[0];
  if (rows !== totalRows) {
    throw new InferenceError(
      `Model ${model} output "${t.name}" has shape ${JSON.stringify(t.shape)} but the batch had ${totalRows} rows ` +
        `(${members} requests merged), so it cannot be split per request. A model served with batching must return ` +
        'every output with dim 0 equal to the input rows; serve it with max_batch_size 1 otherwise.',
    );
  }
  const length = dataLength(t);
  if (length !== elementCount(t.shape)) {
    throw new InferenceError(
      `Model ${model} output "${t.name}" has ${length} elements, which does not match its shape ${JSON.stringify(t.shape)}.`,
    );
  }
}

/**
 * Split a batch result back per member (`rows` in member order): V2 outputs sliced along dim 0 (views,
 * no copy), V1 `predictions` sliced by instance count. Each V2 member gets its own request id. Throws
 * InferenceError when an output cannot be split (its dim 0 is not the batch's row count).
 */
export function splitResult(result: Result, members: Payload[], rows: number[], model: string): Result[] {
  let total = 0;
  for (const n of rows) total += n;
  if (isInferResponse(result)) {
    const outs = result.outputs;
    for (const t of outs) checkSplittable(t, total, members.length, model);
    // Per output, once per batch: elements per row and the shape past dim 0 (members share them).
    const strides = new Array<number>(outs.length);
    const tails = new Array<number[]>(outs.length);
    for (let k = 0; k < outs.length; k++) {
      const tail = outs[k]!.shape.slice(1);
      tails[k] = tail;
      strides[k] = elementCount(tail);
    }
    const parts = new Array<Result>(rows.length);
    let start = 0;
    for (let i = 0; i < rows.length; i++) {
      const n = rows[i]!;
      const end = start + n;
      const outputs = new Array<InferTensor>(outs.length);
      for (let k = 0; k < outs.length; k++) outputs[k] = rowsOf(outs[k]!, strides[k]!, tails[k]!, start, end);
      start = end;
      const res: InferResponse = { model_name: result.model_name, outputs };
      if (result.model_version !== undefined) res.model_version = result.model_version;
      if (result.parameters !== undefined) res.parameters = result.parameters;
      const member = members[i]!;
      if (isInferRequest(member) && member.id !== undefined) res.id = member.id;
      parts[i] = res;
    }
    return parts;
  }
  const body = result as V1Response;
  if (!Array.isArray(body.predictions) || body.predictions.length !== total) {
    throw new InferenceError(
      `Model ${model} returned ${Array.isArray(body.predictions) ? body.predictions.length : 'no'} predictions for a ` +
        `batch of ${total} rows (${members.length} requests merged), so they cannot be split per request.`,
    );
  }
  const predictions = body.predictions;
  let start = 0;
  return rows.map((n) => {
    const part: V1Response = { ...body, predictions: predictions.slice(start, start + n) };
    start += n;
    return part;
  });
}
