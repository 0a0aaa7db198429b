import type { InferTensor, TensorMetadata, V1Request, V1Response } from '@servekit/core';
import { InvalidInput } from '@servekit/core';
import { decodeJsonData, encodeJsonData, nest, shapeOf } from '@servekit/core/wire';

/** Which TF Serving REST request format a V1 body used; the response uses the matching one. */
export type V1Format = 'row' | 'columnar';

/** A V1 body decoded into signature inputs. */
export interface DecodedV1 {
  /** `row` for `instances`, `columnar` for `inputs`. */
  format: V1Format;
  /** One tensor per signature input. */
  inputs: InferTensor[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);

/** TF Serving's `{"b64": "..."}` marks binary BYTES values. */
function isB64(v: unknown): v is { b64: string } {
  return isPlainObject(v) && Object.keys(v).length === 1 && typeof v.b64 === 'string';
}

/** A JSON value (nested lists) as a tensor for `spec`. */
function tensorFromValue(spec: TensorMetadata, value: unknown): InferTensor {
  if (spec.datatype === 'BYTES') {
    const shape = shapeOf(spec.name, value);
    const flat: Uint8Array[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (isB64(v)) flat.push(Buffer.from(v.b64, 'base64'));
      else if (typeof v === 'string') flat.push(Buffer.from(v, 'utf8'));
      else throw new InvalidInput(`Input "${spec.name}": ${JSON.stringify(v)} is not a string or {"b64": …}.`);
    };
    walk(value);
    return { name: spec.name, datatype: 'BYTES', shape, data: flat };
  }
  if (isB64(value) || (isPlainObject(value) && !Array.isArray(value))) {
    throw new InvalidInput(`Input "${spec.name}": expected numbers (nested lists), got an object.`);
  }
  const shape = shapeOf(spec.name, value);
  return {
    name: spec.name,
    datatype: spec.datatype,
    shape,
    data: decodeJsonData(spec.name, spec.datatype, shape, value),
  };
}

/**
 * Decode a V1 body with TF Serving's REST semantics:
 * `instances` (row format) — a list of rows stacked along a new batch dimension; with one input a row is its value
 * (or `{name: value}`), with several inputs each row is `{name: value, …}`;
 * `inputs` (columnar) — the value of the only input, or `{name: value, …}`.
 */
export function decodeV1(body: V1Request, specs: readonly TensorMetadata[]): DecodedV1 {
  const hasInstances = body.instances !== undefined;
  const hasInputs = body.inputs !== undefined;
  if (hasInstances === hasInputs) {
    throw new InvalidInput(
      'The request body must have exactly one of "instances" (row format) or "inputs" (columnar format).',
    );
  }
  if (hasInstances) {
    const rows = body.instances;
    if (!Array.isArray(rows)) throw new InvalidInput('"instances" must be a list.');
    if (specs.length === 0) {
      if (rows.length > 0 && rows.some((r) => !isPlainObject(r) || Object.keys(r).length > 0)) {
        throw new InvalidInput('This signature takes no inputs; send "instances": [] or "inputs": {}.');
      }
      return { format: 'row', inputs: [] };
    }
    if (rows.length === 0) throw new InvalidInput('"instances" is empty.');
    const columns = specs.map(() => [] as unknown[]);
    const named = specs.length > 1 || rows.every((r) => isPlainObject(r) && !isB64(r) && specs[0]!.name in r);
    rows.forEach((row, i) => {
      if (!named) {
        columns[0]!.push(row);
        return;
      }
      if (!isPlainObject(row)) {
        throw new InvalidInput(
          `instances[${i}] must be an object keyed by input name (${specs.map((s) => s.name).join(', ')}).`,
        );
      }
      for (const k of Object.keys(row)) {
        if (!specs.some((s) => s.name === k)) throw new InvalidInput(`instances[${i}] has unknown input "${k}".`);
      }
      specs.forEach((s, j) => {
        if (!(s.name in row)) throw new InvalidInput(`instances[${i}] lacks input "${s.name}".`);
        columns[j]!.push(row[s.name]);
      });
    });
    return { format: 'row', inputs: specs.map((s, j) => tensorFromValue(s, columns[j])) };
  }
  const value = body.inputs;
  const named =
    isPlainObject(value) &&
    !isB64(value) &&
    (specs.length !== 1 || Object.keys(value).every((k) => specs.some((s) => s.name === k)));
  if (!named) {
    if (specs.length !== 1) {
      throw new InvalidInput(
        `"inputs" must be an object keyed by input name (${specs.map((s) => s.name).join(', ') || 'none'}).`,
      );
    }
    return { format: 'columnar', inputs: [tensorFromValue(specs[0]!, value)] };
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!specs.some((s) => s.name === k)) throw new InvalidInput(`"inputs" has unknown input "${k}".`);
  }
  return {
    format: 'columnar',
    inputs: specs.map((s) => {
      if (!(s.name in obj)) throw new InvalidInput(`"inputs" lacks input "${s.name}".`);
      return tensorFromValue(s, obj[s.name]);
    }),
  };
}

/** A tensor as nested JSON; BYTES that are not valid UTF-8 become `{"b64": …}` like TF Serving. */
function toJson(t: InferTensor): unknown {
  if (t.datatype === 'BYTES' && Array.isArray(t.data)) {
    const flat = t.data.map((b) => {
      if (typeof b === 'string') return b;
      const s = Buffer.from(b).toString('utf8');
      return Buffer.from(s, 'utf8').equals(Buffer.from(b)) ? s : { b64: Buffer.from(b).toString('base64') };
    });
    return nest(flat, t.shape);
  }
  return nest(encodeJsonData(t.datatype, t.data), t.shape);
}

/**
 * Encode outputs with TF Serving's REST semantics: row format → `predictions` (one entry per batch row; with several
 * outputs each row is `{name: value}`, and every output must share the batch size); columnar → `outputs` (the only
 * output's value, or `{name: value}`).
 */
export function encodeV1(outputs: readonly InferTensor[], format: V1Format): V1Response {
  if (format === 'columnar') {
    if (outputs.length === 1) return { outputs: toJson(outputs[0]!) };
    return { outputs: Object.fromEntries(outputs.map((t) => [t.name, toJson(t)])) };
  }
  if (outputs.length === 1) {
    const v = toJson(outputs[0]!);
    return { predictions: Array.isArray(v) ? v : [v] };
  }
  const batch = outputs[0]?.shape[0];
  for (const t of outputs) {
    if (t.shape.length === 0 || t.shape[0] !== batch) {
      throw new InvalidInput(
        `Outputs have different batch sizes (${outputs.map((o) => `${o.name}: [${o.shape.join(',')}]`).join(', ')}), so they cannot be returned as rows; use the columnar "inputs" format.`,
      );
    }
  }
  const values = outputs.map((t) => toJson(t) as unknown[]);
  const predictions = Array.from({ length: batch ?? 0 }, (_, i) =>
    Object.fromEntries(outputs.map((t, j) => [t.name, values[j]![i]])),
  );
  return { predictions };
}
