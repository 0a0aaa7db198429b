import { type InferResponse, type InferTensor, PredictorError } from '@servekit/core';

/** True when every row of `[rows, k]` already is a probability distribution (non-negative, sums to 1). */
export function isProbability(values: Float32Array, rows: number, k: number): boolean {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const v = values[r * k + j]!;
      if (!(v >= 0 && v <= 1)) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

/** Row-wise softmax of `[rows, k]` logits (max-subtracted, so large logits do not overflow). */
export function softmax(logits: Float32Array, rows: number, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[o + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(logits[o + j]! - max);
      out[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < k; j++) out[o + j]! /= sum;
  }
  return out;
}

/** Class probabilities of a predictor answer, `[rows, classes]` row-major. */
export interface ClassProbabilities {
  /** Images answered. */
  rows: number;
  /** The probabilities. */
  probs: Float32Array;
}

/**
 * The class probabilities of a predictor answer: the output named `outputName` (else the first), checked to be
 * numeric `[rows, classes]`, softmaxed when it holds logits. A mismatch is a 502 naming the predictor.
 */
export function classProbabilities(
  res: InferResponse,
  classes: number,
  outputName: string | undefined,
  predictor: string,
): ClassProbabilities {
  const out: InferTensor | undefined = res.outputs.find((t) => t.name === outputName) ?? res.outputs[0];
  const expected = `[N, ${classes}] class scores`;
  if (out === undefined) throw new PredictorError(`Predictor ${predictor} returned no outputs; expected ${expected}.`);
  if (out.datatype === 'BYTES' || out.shape.length !== 2 || out.shape[1] !== classes) {
    throw new PredictorError(
      `Predictor ${predictor} returned "${out.name}" ${out.datatype} ${JSON.stringify(out.shape)}; expected ${expected}.`,
    );
  }
  const rows = out.shape[0]!;
  const values = Float32Array.from(out.data as ArrayLike<number>);
  return { rows, probs: isProbability(values, rows, classes) ? values : softmax(values, rows, classes) };
}

/** Row `r` of `[rows, k]` probabilities as `{class: probability}`, highest first (ties keep class order). */
export function rankedScores(probs: Float32Array, r: number, names: readonly string[]): Record<string, number> {
  const k = names.length;
  const order = names.map((_, j) => j).sort((a, b) => probs[r * k + b]! - probs[r * k + a]! || a - b);
  return Object.fromEntries(order.map((j) => [names[j]!, probs[r * k + j]!]));
}
