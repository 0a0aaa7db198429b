import type { InferTensor, TensorData } from '@servekit/core';
import { baseDtype, TfDtype, v2Datatype } from '../graph/dtypes.js';
import type { FrozenGraph, FrozenTensor } from '../graph/frozen-graph.js';
import { seededUniform } from '../saved-model/graph-def-builder.js';

/** How close two engines' outputs must be: |a − b| ≤ atol + rtol·|b| for every element. */
export interface ProbeTolerance {
  /** Relative tolerance. */
  rtol: number;
  /** Absolute tolerance (for values near zero). */
  atol: number;
}

/** The tolerance of issue 7: 1e-4 relative, with a small absolute floor for values near zero. */
export const DEFAULT_PROBE_TOLERANCE: ProbeTolerance = { rtol: 1e-4, atol: 1e-5 };

/** Size given to unknown (-1) dims of a probe input. */
export const PROBE_DIM = 2;

/**
 * Candidate probe shapes of one signature input, best first: the declared shape with -1 dims set to `PROBE_DIM`;
 * for an unknown rank a vector, a scalar and a matrix.
 */
export function probeShapes(spec: FrozenTensor): number[][] {
  if (spec.shape === undefined) return [[PROBE_DIM], [], [PROBE_DIM, PROBE_DIM]];
  return [spec.shape.map((d) => (d < 0 ? PROBE_DIM : d))];
}

function hashKey(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Deterministic values for one probe input: floats in [-1, 1), small non-negative integers (valid indices), 0/1. */
function probeData(spec: FrozenTensor, n: number): TensorData {
  const dt = baseDtype(spec.dtype);
  const small = (i: number): number => (i * 7 + 1) % 3;
  switch (v2Datatype(dt)) {
    case 'FP32':
      return seededUniform(n, 1, hashKey(spec.key));
    case 'FP64':
      return Float64Array.from(seededUniform(n, 1, hashKey(spec.key)));
    case 'INT64':
      return BigInt64Array.from({ length: n }, (_, i) => BigInt(small(i)));
    case 'UINT64':
      return BigUint64Array.from({ length: n }, (_, i) => BigInt(small(i)));
    case 'INT32':
      return Int32Array.from({ length: n }, (_, i) => small(i));
    case 'INT16':
      return Int16Array.from({ length: n }, (_, i) => small(i));
    case 'INT8':
      return Int8Array.from({ length: n }, (_, i) => small(i));
    case 'UINT32':
      return Uint32Array.from({ length: n }, (_, i) => small(i));
    case 'UINT16':
      return Uint16Array.from({ length: n }, (_, i) => small(i));
    case 'UINT8':
      return Uint8Array.from({ length: n }, (_, i) => small(i));
    case 'BOOL':
      return Uint8Array.from({ length: n }, (_, i) => i % 2);
    case 'BYTES':
      return Array.from({ length: n }, () => 'probe');
    default:
      // FP16 / BF16 inputs: half-precision bit patterns of small values (0, 0.5, 1).
      return Uint16Array.from({ length: n }, (_, i) => [0, dt === TfDtype.DT_HALF ? 0x3800 : 0x3f00, 0x3c00][i % 3]!);
  }
}

/** The probe inputs of candidate `which` (index into the shapes `probeShapes` gives; inputs with fewer reuse their last). */
export function probeInputs(graph: FrozenGraph, which = 0): Map<string, InferTensor> {
  const out = new Map<string, InferTensor>();
  for (const spec of graph.inputs) {
    const shapes = probeShapes(spec);
    const shape = shapes[Math.min(which, shapes.length - 1)]!;
    const n = shape.reduce((a, b) => a * b, 1);
    out.set(spec.key, { name: spec.key, datatype: v2Datatype(spec.dtype) ?? 'BYTES', shape, data: probeData(spec, n) });
  }
  return out;
}

/** How many probe candidates a graph has (the most any of its inputs offers; 1 for input-less graphs). */
export function probeCandidates(graph: FrozenGraph): number {
  return Math.max(1, ...graph.inputs.map((s) => probeShapes(s).length));
}

/** Where two engines' outputs differ most. */
export interface ProbeDifference {
  /** Output key. */
  output: string;
  /** Flat element index (-1 for a shape or length mismatch). */
  index: number;
  /** The candidate engine's value. */
  got: number;
  /** The reference engine's value. */
  want: number;
  /** |got − want|. */
  abs: number;
  /** abs / |want| (Infinity when want is 0 and abs > 0). */
  rel: number;
}

/** Result of comparing two engines on the probe. */
export interface ProbeComparison {
  /** True when every output agrees within the tolerance (same shapes, NaN where the other has NaN). */
  agree: boolean;
  /** The element furthest outside the tolerance (or the largest difference, when all agree); undefined when equal. */
  worst?: ProbeDifference;
  /** Why they disagree when it is not a value (shape or count mismatch). */
  mismatch?: string;
}

const asNumbers = (t: InferTensor): ArrayLike<number | bigint | string | Uint8Array> =>
  t.data as ArrayLike<number | bigint>;

/** Compare `got` (the candidate engine) with `want` (the reference) output by output. */
export function compareOutputs(got: InferTensor[], want: InferTensor[], tol: ProbeTolerance): ProbeComparison {
  let worst: ProbeDifference | undefined;
  let worstExcess = Number.NEGATIVE_INFINITY;
  for (const w of want) {
    const g = got.find((t) => t.name === w.name);
    if (g === undefined) return { agree: false, mismatch: `output "${w.name}" is missing` };
    if (g.shape.join(',') !== w.shape.join(',')) {
      return {
        agree: false,
        mismatch: `output "${w.name}" has shape ${JSON.stringify(g.shape)} instead of ${JSON.stringify(w.shape)}`,
      };
    }
    const a = asNumbers(g);
    const b = asNumbers(w);
    if (a.length !== b.length)
      return { agree: false, mismatch: `output "${w.name}" has ${a.length} values instead of ${b.length}` };
    for (let i = 0; i < b.length; i++) {
      const av = a[i]!;
      const bv = b[i]!;
      if (typeof bv === 'string' || bv instanceof Uint8Array) {
        const same = typeof av === typeof bv && String(av) === String(bv);
        if (!same) return { agree: false, mismatch: `output "${w.name}"[${i}] differs (strings)` };
        continue;
      }
      const x = Number(av);
      const y = Number(bv);
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      if (x === y) continue;
      const abs = Number.isNaN(x) || Number.isNaN(y) ? Number.POSITIVE_INFINITY : Math.abs(x - y);
      const excess = abs - (tol.atol + tol.rtol * Math.abs(y));
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = {
          output: w.name,
          index: i,
          got: x,
          want: y,
          abs,
          rel: y === 0 ? Number.POSITIVE_INFINITY : abs / Math.abs(y),
        };
      }
    }
  }
  return worst === undefined ? { agree: true } : { agree: worstExcess <= 0, worst };
}

/** A difference in words: `output "y"[3]: 0.51 vs 0.5 (|diff| 1.0e-2, rel 2.0e-2)`. */
export function describeDifference(d: ProbeDifference, gotEngine: string, wantEngine: string): string {
  return `output "${d.output}"[${d.index}]: ${gotEngine} ${d.got} vs ${wantEngine} ${d.want} (|diff| ${d.abs.toExponential(2)}, relative ${d.rel.toExponential(2)})`;
}
