/**
 * Triton's classification extension: a requested output with the parameter `classification: k` is answered
 * as a BYTES tensor of its top-k entries, each `"score:index"` or `"score:index:label"` when the model names its
 * classes. Scores are written as C++'s `std::to_string` does (6 decimals for floats, plain integers for
 * integer tensors), highest first (ties: lower index first). An output of rank ≥ 2 is classified per row of
 * dim 0 (shape [rows, min(k, classes)]); a lower rank as a whole (shape [min(k, elements)]).
 */
import { InvalidInput } from '../errors.js';
import type { Model } from '../model/model.js';
import { elementCount, type InferRequest, type InferResponse, type InferTensor } from '../protocols/infer-types.js';

/** A model that names the classes of some outputs (e.g. a classifier's probability tensor). */
export interface ClassLabelProvider {
  /** The class labels of `output`, by index along its last dim, or undefined when it has none. */
  classLabels(output: string): readonly string[] | undefined;
}

/** True when the model implements {@link ClassLabelProvider}. */
export function hasClassLabels(model: Model): model is Model & ClassLabelProvider {
  return typeof (model as Partial<ClassLabelProvider>).classLabels === 'function';
}

/** The requested class count of an output's `classification` parameter, or undefined when absent. */
function classCount(output: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const k = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new InvalidInput(
      `Output "${output}": parameter "classification" must be a positive integer, got ${JSON.stringify(value)}.`,
    );
  }
  return k;
}

/** `std::to_string` of a float (`%f`), as Triton writes scores. */
function floatString(v: number): string {
  if (Number.isNaN(v)) return v < 0 ? '-nan' : 'nan';
  if (v === Number.POSITIVE_INFINITY) return 'inf';
  if (v === Number.NEGATIVE_INFINITY) return '-inf';
  const s = v.toFixed(6);
  return Object.is(v, -0) ? `-${s}` : s;
}

type Scores = ArrayLike<number> | ArrayLike<bigint>;

function scoresOf(t: InferTensor): { values: Scores; format: (v: number | bigint) => string } {
  switch (t.datatype) {
    case 'FP32':
    case 'FP64':
      return { values: t.data as Float32Array, format: (v) => floatString(v as number) };
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
    case 'INT64':
    case 'UINT64':
      return { values: t.data as Int32Array, format: String };
    default:
      throw new InvalidInput(
        `Output "${t.name}": class result not available for output due to unsupported type '${t.datatype}'.`,
      );
  }
}

/** Top-k strings of one row `[offset, offset + count)`. */
function topK(
  scores: Scores,
  offset: number,
  count: number,
  k: number,
  format: (v: number | bigint) => string,
  labels: readonly string[] | undefined,
  out: string[],
): void {
  const idx = Array.from({ length: count }, (_, i) => i);
  const at = (i: number): number | bigint => scores[offset + i]!;
  idx.sort((a, b) => {
    const x = at(a);
    const y = at(b);
    if (x === y) return a - b;
    if (typeof x === 'number' && Number.isNaN(x)) return 1;
    if (typeof y === 'number' && Number.isNaN(y)) return -1;
    return x > y ? -1 : x < y ? 1 : a - b;
  });
  const n = Math.min(k, count);
  for (let j = 0; j < n; j++) {
    const i = idx[j]!;
    const label = labels?.[i];
    out.push(label === undefined ? `${format(at(i))}:${i}` : `${format(at(i))}:${i}:${label}`);
  }
}

/** The BYTES tensor of `k` classifications of `t`. */
export function classify(t: InferTensor, k: number, labels?: readonly string[]): InferTensor {
  const { values, format } = scoresOf(t);
  const total = elementCount(t.shape);
  const strings: string[] = [];
  let shape: number[];
  if (t.shape.length >= 2) {
    const rows = t.shape[0]!;
    const per = rows === 0 ? 0 : total / rows;
    for (let r = 0; r < rows; r++) topK(values, r * per, per, k, format, labels, strings);
    shape = [rows, Math.min(k, per)];
  } else {
    topK(values, 0, total, k, format, labels, strings);
    shape = [Math.min(k, total)];
  }
  const out: InferTensor = { name: t.name, datatype: 'BYTES', shape, data: strings };
  if (t.parameters) {
    const { classification: _k, ...rest } = t.parameters;
    if (Object.keys(rest).length > 0) out.parameters = rest;
  }
  return out;
}

/**
 * Replace, in `res`, every output the request asked to classify (`parameters.classification`) by its top-k
 * classification. `res.outputs` is in the order of `request.outputs` (the dataplane selected them).
 */
export function applyClassification(res: InferResponse, request: InferRequest, model: Model): void {
  const requested = request.outputs;
  if (!requested) return;
  for (let i = 0; i < requested.length; i++) {
    const k = classCount(requested[i]!.name, requested[i]!.parameters?.classification);
    if (k === undefined) continue;
    const t = res.outputs[i]!;
    const labels = hasClassLabels(model) ? model.classLabels(t.name) : undefined;
    res.outputs[i] = classify(t, k, labels);
  }
}
