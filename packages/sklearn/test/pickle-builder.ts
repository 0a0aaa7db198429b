// Hand-built protocol-2 pickles for the security tests: values, objects with a state dict, numpy arrays, bytes,
// tuples and REDUCE calls, so a test can hand a converter (or the unpickler) exactly the hostile state it means.
import { expect } from 'vitest';
import { convertSklearnBytes } from '../src/load.js';
import { PickleFormatError, UnsupportedEstimatorError } from '../src/pickle/errors.js';
import { decompressJoblib } from '../src/pickle/joblib.js';

/** A Python global (class or function) inside a hand-built pickle. */
export interface Global {
  global: string;
  /** Attribute dict applied with BUILD after `global()` (NEWOBJ with no arguments); omitted: a bare reference. */
  state?: Record<string, Py>;
}

/** A value a hand-built pickle can hold. */
export type Py =
  | string
  | number
  | boolean
  | null
  | Py[]
  | Global
  | { float: number }
  | { f64: number[]; shape?: number[] }
  | { bytes: Uint8Array }
  | { tuple: Py[] }
  | { reduce: string; args: Py[]; build?: Py };

const u32 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const ref = (name: string): number[] => {
  const dot = name.lastIndexOf('.');
  return [0x63, ...Buffer.from(`${name.slice(0, dot)}\n${name.slice(dot + 1)}\n`, 'utf8')];
};
const float = (x: number): number[] => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return [0x47, ...b];
};

/** Protocol-2 opcodes for one value. */
export function encode(v: Py): number[] {
  if (v === null) return [0x4e];
  if (v === true) return [0x88];
  if (v === false) return [0x89];
  if (typeof v === 'string') {
    const b = [...Buffer.from(v, 'utf8')];
    return [0x58, ...u32(b.length), ...b];
  }
  if (typeof v === 'number')
    return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? [0x4a, ...u32(v >>> 0)] : float(v);
  if (Array.isArray(v)) return [0x5d, 0x28, ...v.flatMap(encode), 0x65];
  if ('float' in v) return float(v.float);
  if ('bytes' in v) return [0x42, ...u32(v.bytes.length), ...v.bytes];
  if ('tuple' in v) return [0x28, ...v.tuple.flatMap(encode), 0x74];
  if ('f64' in v) {
    // numpy.core.numeric._frombuffer(bytes, numpy.dtype('<f8'), shape, 'C')
    const data = Buffer.alloc(8 * v.f64.length);
    v.f64.forEach((x, i) => {
      data.writeDoubleLE(x, 8 * i);
    });
    const dtype: Py = { reduce: 'numpy.dtype', args: ['<f8'] };
    return encode({
      reduce: 'numpy.core.numeric._frombuffer',
      args: [{ bytes: data }, dtype, { tuple: v.shape ?? [v.f64.length] }, 'C'],
    });
  }
  if ('reduce' in v) {
    const call = [...ref(v.reduce), ...encode({ tuple: v.args }), 0x52];
    return v.build === undefined ? call : [...call, ...encode(v.build), 0x62];
  }
  if (!v.state) return ref(v.global);
  const items = Object.entries(v.state).flatMap(([k, x]) => [...encode(k), ...encode(x)]);
  return [...ref(v.global), 0x29, 0x81, 0x7d, 0x28, ...items, 0x75, 0x62];
}

/** A whole pickle holding `v`. */
export const pickle = (v: Py): Uint8Array => Uint8Array.from([0x80, 2, ...encode(v), 0x2e]);

/** An object of class `global` with the attribute dict `state`. */
export const obj = (global: string, state: Record<string, Py>): Global => ({ global, state });

/** A joblib file's pickle with every `from` replaced by `to` (same length); fails the test if `from` is absent. */
export function renamedPickle(joblib: Uint8Array, from: string, to: string): Uint8Array {
  const raw = Buffer.from(decompressJoblib(joblib));
  let at = raw.indexOf(from);
  expect(at, `the file names ${from}`).toBeGreaterThanOrEqual(0);
  while (at >= 0) {
    Buffer.from(to).copy(raw, at);
    at = raw.indexOf(from, at + 1);
  }
  return new Uint8Array(raw);
}

/** Converting a pickle of `value` is refused with `message`, as a clean UnsupportedEstimatorError or PickleFormatError. */
export function expectRefusedState(value: Py, message: RegExp): void {
  const run = (): unknown => convertSklearnBytes(pickle(value));
  expect(run).toThrow(message);
  try {
    run();
  } catch (e) {
    expect(e instanceof UnsupportedEstimatorError || e instanceof PickleFormatError, String(e)).toBe(true);
  }
}
