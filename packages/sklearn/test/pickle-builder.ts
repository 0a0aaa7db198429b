// Hand-built pickles of estimator records, and real fixtures with a module renamed, for the security tests.
import { expect } from 'vitest';
import { decompressJoblib } from '../src/pickle/joblib.js';

/** A Python global (class or function) inside a hand-built pickle. */
export interface Global {
  global: string;
  /** Attribute dict applied with BUILD after `global()` (NEWOBJ with no arguments); omitted: a bare reference. */
  state?: Record<string, Py>;
}
/** A value a hand-built pickle can hold. */
export type Py = string | number | boolean | null | Py[] | Global | { float: number };

const u32 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

/** Protocol-2 opcodes for one value: strings, ints, floats, None, bools, lists, objects with a state dict. */
export function encode(v: Py): number[] {
  if (v === null) return [0x4e];
  if (v === true) return [0x88];
  if (v === false) return [0x89];
  if (typeof v === 'string') {
    const b = [...Buffer.from(v, 'utf8')];
    return [0x58, ...u32(b.length), ...b];
  }
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) return [0x4a, ...u32(v >>> 0)];
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return [0x47, ...b];
  }
  if (Array.isArray(v)) return [0x5d, 0x28, ...v.flatMap(encode), 0x65];
  if ('float' in v) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v.float);
    return [0x47, ...b];
  }
  const dot = v.global.lastIndexOf('.');
  const ref = [0x63, ...Buffer.from(`${v.global.slice(0, dot)}\n${v.global.slice(dot + 1)}\n`, 'utf8')];
  if (!v.state) return ref;
  const items = Object.entries(v.state).flatMap(([k, x]) => [...encode(k), ...encode(x)]);
  return [...ref, 0x29, 0x81, 0x7d, 0x28, ...items, 0x75, 0x62];
}

/** A whole pickle holding `v`. */
export const pickle = (v: Py): Uint8Array => Uint8Array.from([0x80, 2, ...encode(v), 0x2e]);

/** An object of class `global` with attribute dict `state`. */
export const obj = (global: string, state: Record<string, Py>): Global => ({ global, state });

/** A joblib file's (decompressed) pickle with every `from` replaced by `to` (same length). */
export function renamedModule(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const raw = Buffer.from(decompressJoblib(bytes));
  let at = raw.indexOf(from);
  expect(at, `the file names ${from}`).toBeGreaterThanOrEqual(0);
  while (at >= 0) {
    Buffer.from(to).copy(raw, at);
    at = raw.indexOf(from, at + 1);
  }
  return new Uint8Array(raw);
}
