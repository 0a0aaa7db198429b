import { clip, InferenceError, InvalidInput } from '../errors.js';
import type { InferTensor } from '../protocols/infer-types.js';
import type { Datatype } from './datatypes.js';
import { decodeJsonData, encodeJsonData, nest } from './json-codec.js';

/** Shape of a rectangular nested JSON array; throws InvalidInput naming `name` when ragged. No recursion. */
export function shapeOf(name: string, value: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = value;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  const ragged = () =>
    new InvalidInput(`"${clip(name)}": nested lists are ragged (expected shape ${JSON.stringify(shape)}).`);
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [v, dim] = pending.pop()!;
    if (dim === shape.length) {
      if (Array.isArray(v)) throw ragged();
      continue;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) throw ragged();
    // The last dim holds leaves: check them here rather than queueing each one.
    if (dim === shape.length - 1) {
      for (const x of v) if (Array.isArray(x)) throw ragged();
    } else {
      for (const x of v) pending.push([x, dim + 1]);
    }
  }
  return shape;
}

/** Datatype JSON values suggest: BOOL for booleans, BYTES for strings, INT64 for integers below 2^53, else FP64. */
export function inferDatatype(value: unknown): Datatype {
  let cur: unknown = value;
  while (Array.isArray(cur)) cur = cur[0];
  if (typeof cur === 'boolean') return 'BOOL';
  if (typeof cur === 'string') return 'BYTES';
  // Integers JSON numbers hold exactly (below 2^53) make INT64; anything else FP64.
  if (!Array.isArray(value)) return Number.isSafeInteger(value) ? 'INT64' : 'FP64';
  const pending: unknown[][] = [value];
  while (pending.length > 0) {
    for (const x of pending.pop()!) {
      if (Array.isArray(x)) pending.push(x);
      else if (!Number.isSafeInteger(x)) return 'FP64';
    }
  }
  return 'INT64';
}

/** A tensor from a (possibly nested) JSON value; shape from the nesting, datatype given or inferred. */
export function tensorFromJson(name: string, value: unknown, datatype?: Datatype): InferTensor {
  const shape = shapeOf(name, value);
  const dt = datatype ?? inferDatatype(value);
  return { name, datatype: dt, shape, data: decodeJsonData(name, dt, shape, value) };
}

/**
 * An output tensor as the encoders need it: typed-array data (strings or bytes for BYTES). Data a model or a remote
 * predictor gave as a plain JSON list is decoded and checked against shape and datatype here; anything else is an
 * InferenceError naming the output (never a JS TypeError from deep inside an encoder).
 */
export function checkedOutput(t: InferTensor): InferTensor {
  const { data } = t;
  if (t.datatype === 'BYTES') {
    if (Array.isArray(data) && data.every((b) => typeof b === 'string' || b instanceof Uint8Array)) return t;
  } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    return t;
  }
  try {
    return { ...t, data: decodeJsonData(t.name, t.datatype, checkedShape(t), data) };
  } catch (err) {
    throw new InferenceError(
      `Output "${clip(String(t.name))}" is not a valid ${t.datatype} tensor: ${(err as Error).message}`,
    );
  }
}

function checkedShape(t: InferTensor): number[] {
  if (!Array.isArray(t.shape)) throw new InvalidInput('"shape" must be a list.');
  return t.shape;
}

/** A tensor as nested JSON (V1 edge only). */
export function tensorToJson(t: InferTensor): unknown {
  const checked = checkedOutput(t);
  return nest(encodeJsonData(checked.datatype, checked.data), checked.shape);
}
