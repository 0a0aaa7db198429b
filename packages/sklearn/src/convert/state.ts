/** Typed access to a pickled estimator's attributes, with errors that name the estimator and attribute. */
import { PickleFormatError } from '../pickle/errors.js';
import type { NdArray, PyObject, PyValue } from '../pickle/py-types.js';
import { isNdArray, isPyDict, isPyObject } from '../pickle/py-types.js';

/** The attribute dict of an unpickled estimator. */
export function attrs(est: PyObject): Map<PyValue, PyValue> {
  if (!isPyDict(est.state)) throw new PickleFormatError(`${est.name} has no attribute dict in the pickle`);
  return est.state;
}

/** Whether the estimator has attribute `key` set (not None). */
export function has(est: PyObject, key: string): boolean {
  const v = attrs(est).get(key);
  return v !== undefined && v !== null;
}

/** Raw attribute value (undefined when absent). */
export function get(est: PyObject, key: string): PyValue | undefined {
  return attrs(est).get(key);
}

/** A required attribute. */
export function need(est: PyObject, key: string): PyValue {
  const v = attrs(est).get(key);
  if (v === undefined)
    throw new PickleFormatError(`${est.name} is missing its fitted attribute '${key}' (is it fitted?)`);
  return v;
}

/** A numeric attribute (numbers, bools, numpy scalars). */
export function num(est: PyObject, key: string, fallback?: number): number {
  const v = attrs(est).get(key);
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (isNdArray(v) && v.shape.length === 0) return toF64(v)[0]!;
  throw new PickleFormatError(`${est.name}.${key} is not a number`);
}

/** A string attribute, or fallback when absent/None. */
export function str(est: PyObject, key: string, fallback?: string): string {
  const v = attrs(est).get(key);
  if (typeof v === 'string') return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw new PickleFormatError(`${est.name}.${key} is not a string`);
}

/** A boolean attribute. */
export function bool(est: PyObject, key: string, fallback: boolean): boolean {
  const v = attrs(est).get(key);
  if (v === undefined || v === null) return fallback;
  return v === true || v === 1;
}

/** An ndarray attribute. */
export function arr(est: PyObject, key: string): NdArray {
  const v = need(est, key);
  if (isNdArray(v)) return v;
  if (Array.isArray(v)) return listToArray(v);
  if (typeof v === 'number') return { kind: 'ndarray', dtype: F8, shape: [], data: Float64Array.of(v) };
  throw new PickleFormatError(`${est.name}.${key} is not an array`);
}

/** A nested estimator attribute. */
export function obj(est: PyObject, key: string): PyObject {
  const v = need(est, key);
  if (!isPyObject(v)) throw new PickleFormatError(`${est.name}.${key} is not an estimator object`);
  return v;
}

const F8 = { kind: 'dtype', char: 'f', itemsize: 8, byteOrder: '<' } as const;

/** A Python list of numbers/strings as an NdArray. */
export function listToArray(items: PyValue[]): NdArray {
  if (items.every((x) => typeof x === 'number' || typeof x === 'boolean')) {
    return { kind: 'ndarray', dtype: { ...F8 }, shape: [items.length], data: Float64Array.from(items.map(Number)) };
  }
  return {
    kind: 'ndarray',
    dtype: { kind: 'dtype', char: 'O', itemsize: 8, byteOrder: '|' },
    shape: [items.length],
    data: items,
  };
}

/** Elements of a numeric array as float64. */
export function toF64(a: NdArray): Float64Array {
  if (a.data instanceof Float64Array) return a.data;
  if (Array.isArray(a.data)) {
    return Float64Array.from(a.data, (v) => {
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (v === null) return Number.NaN;
      throw new PickleFormatError('array holds non-numeric values where numbers were expected');
    });
  }
  if (a.data instanceof Uint16Array && a.dtype.char === 'f')
    throw new PickleFormatError('float16 arrays are not supported');
  return Float64Array.from(a.data as ArrayLike<number | bigint>, Number);
}

/** Class labels in their original type: numbers (ints/floats) or strings. */
export function labels(a: NdArray): (number | string)[] {
  if (Array.isArray(a.data)) {
    return a.data.map((v) => {
      if (typeof v === 'string' || typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (v === null) return Number.NaN; // None (a missing category)
      if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
      throw new PickleFormatError('class labels / categories must be numbers or strings');
    });
  }
  if (a.dtype.char === 'b') return Array.from(a.data as Uint8Array, Number);
  return Array.from(toF64(a));
}

/** The Python value at attribute `key` as a list (lists, tuples and 1-D object arrays). */
export function list(est: PyObject, key: string): PyValue[] {
  const v = need(est, key);
  if (Array.isArray(v)) return v;
  if (isNdArray(v) && Array.isArray(v.data)) return v.data;
  if (isNdArray(v)) return Array.from(v.data as ArrayLike<number | bigint>) as PyValue[];
  throw new PickleFormatError(`${est.name}.${key} is not a list`);
}
