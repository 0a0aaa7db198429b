/** The inert JavaScript picture of what a restricted unpickle produced. Nothing here is executable. */

/** A numpy dtype: scalar kinds, fixed-width strings, or a structured record with named fields. */
export interface DType {
  readonly kind: 'dtype';
  /** numpy kind: f float, i int, u uint, b bool, O object, U unicode, S bytes, V void/record. */
  char: 'f' | 'i' | 'u' | 'b' | 'O' | 'U' | 'S' | 'V';
  /** Bytes per element. */
  itemsize: number;
  /** '<' little, '>' big, '|' not applicable. */
  byteOrder: '<' | '>' | '|';
  /** Named fields of a structured dtype, in declaration order. */
  fields?: DTypeField[];
}

/** One field of a structured dtype. */
export interface DTypeField {
  name: string;
  dtype: DType;
  offset: number;
}

/** Element storage of an NdArray. */
export type NdData =
  | Float64Array
  | Float32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | PyValue[];

/** A numpy array, always held in C (row-major) order. */
export interface NdArray {
  readonly kind: 'ndarray';
  dtype: DType;
  shape: number[];
  /** Elements (object/str arrays: a list of Python values; structured arrays: empty, see `fields`). */
  data: NdData;
  /** Structured arrays: one column per named field. */
  fields?: Map<string, NdArray>;
  /** numpy.ma MaskedArray: its mask (bool, same shape; true where masked). */
  mask?: NdArray;
}

/** A reference to a Python global that the allow-list let through (a class or a function). */
export interface PyGlobal {
  readonly kind: 'global';
  module: string;
  name: string;
}

/** An instance of an allow-listed class: its class name and pickled state; never constructed for real. */
export interface PyObject {
  readonly kind: 'object';
  module: string;
  name: string;
  /** Constructor arguments (REDUCE / NEWOBJ). */
  args: PyValue[];
  /** The state BUILD gave it (usually a dict of attributes). */
  state: PyValue;
  /** Items APPENDed to a list subclass (e.g. sklearn's _RemainderColsList). */
  listItems?: PyValue[];
  /** Items SETITEMed into a dict subclass (e.g. sklearn's Bunch). */
  dictItems?: PyDict;
}

/** A Python set or frozenset. */
export interface PySet {
  readonly kind: 'set';
  items: PyValue[];
}

/** A Python dict. Keys are JS primitives (str, int, float, bool, None) or other values by identity. */
export type PyDict = Map<PyValue, PyValue>;

/** Anything an unpickle can produce. Python list and tuple are both JS arrays. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyDict
  | PySet
  | PyGlobal
  | PyObject
  | NdArray
  | DType
  | { readonly kind: 'complex'; re: number; im: number }
  | { readonly kind: 'slice'; start: PyValue; stop: PyValue; step: PyValue };

/** True for a PyObject. */
export function isPyObject(v: unknown): v is PyObject {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'object';
}

/** True for an NdArray. */
export function isNdArray(v: unknown): v is NdArray {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'ndarray';
}

/** True for a dtype. */
export function isDType(v: unknown): v is DType {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'dtype';
}

/** True for a dict. */
export function isPyDict(v: unknown): v is PyDict {
  return v instanceof Map;
}
