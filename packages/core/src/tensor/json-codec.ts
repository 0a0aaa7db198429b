import { InvalidInput } from '../errors.js';
import {
  allocate,
  type BytesArray,
  type Datatype,
  type FixedDatatype,
  INTEGER_RANGES,
  type NumericArray,
  type TensorData,
} from './datatypes.js';
import { fromBFloat16Bits, fromFloat16Bits, toBFloat16Bits, toFloat16Bits } from './half-float.js';
import { elementCount } from './infer-types.js';

type Writer = (value: unknown, index: number) => void;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 20 ? `${v.slice(0, 20)}…` : v}"`;
  return String(v);
}

function toFloat(v: unknown, fail: (v: unknown) => never): number {
  if (typeof v === 'number') return v;
  if (v === null) return Number.NaN; // JSON has no NaN: null marks a missing value
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'nan') return Number.NaN;
    if (v === 'Infinity' || v === 'inf') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity' || v === '-inf') return Number.NEGATIVE_INFINITY;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return fail(v);
}

function writerFor(dt: FixedDatatype, out: NumericArray, fail: (v: unknown) => never): Writer {
  switch (dt) {
    case 'FP32':
    case 'FP64':
      return (v, i) => {
        out[i] = toFloat(v, fail);
      };
    case 'FP16':
      return (v, i) => {
        out[i] = toFloat16Bits(toFloat(v, fail));
      };
    case 'BF16':
      return (v, i) => {
        out[i] = toBFloat16Bits(toFloat(v, fail));
      };
    case 'BOOL':
      return (v, i) => {
        if (typeof v === 'boolean') out[i] = v ? 1 : 0;
        else if (v === 0 || v === 1) out[i] = v;
        else fail(v);
      };
    case 'INT64':
    case 'UINT64':
      return (v, i) => {
        let b: bigint;
        if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
        else if (typeof v === 'string' && /^-?\d+$/.test(v)) b = BigInt(v);
        else if (typeof v === 'bigint') b = v;
        else return fail(v);
        if (dt === 'UINT64' ? b < 0n || b > 0xffffffffffffffffn : b < -(2n ** 63n) || b >= 2n ** 63n) fail(v);
        out[i] = b;
      };
    default: {
      const [lo, hi] = INTEGER_RANGES[dt]!;
      return (v, i) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) fail(v);
        out[i] = v as number;
      };
    }
  }
}

/**
 * Decode a JSON `data` field (flat or nested lists) straight into the typed array of `datatype`,
 * checking the element count against `shape` and every value against the datatype.
 * Errors are InvalidInput naming `tensorName`.
 */
export function decodeJsonData(
  tensorName: string,
  datatype: Datatype,
  shape: readonly number[],
  data: unknown,
): TensorData {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new InvalidInput(`Input "${tensorName}": shape ${JSON.stringify(shape)} must hold non-negative integers.`);
    }
  }
  const expected = elementCount(shape);
  const values = Array.isArray(data) ? data : [data];
  // Count before allocating: the shape is client input and must not size an allocation the data cannot fill.
  const leaves = countLeaves(values);
  if (leaves !== expected) {
    throw new InvalidInput(
      `Input "${tensorName}": shape ${JSON.stringify(shape)} needs ${expected} elements but data has ${leaves}.`,
    );
  }
  let count = 0;
  const sink: unknown[] | null = datatype === 'BYTES' ? [] : null;
  const out = datatype === 'BYTES' ? null : allocate(datatype, expected);
  const fail = (v: unknown): never => {
    throw new InvalidInput(`Input "${tensorName}": value ${describe(v)} is not a valid ${datatype}.`);
  };
  const write: Writer =
    out !== null
      ? writerFor(datatype as FixedDatatype, out, fail)
      : (v) => {
          if (typeof v !== 'string') fail(v);
          sink!.push(v);
        };
  const walk = (arr: unknown[]): void => {
    for (const v of arr) {
      if (Array.isArray(v)) {
        walk(v);
        continue;
      }
      write(v, count);
      count++;
    }
  };
  walk(values);
  return out ?? (sink as BytesArray);
}

/** Number of non-array values in nested lists. */
function countLeaves(arr: unknown[]): number {
  let n = 0;
  for (const v of arr) n += Array.isArray(v) ? countLeaves(v) : 1;
  return n;
}

const utf8 = new TextDecoder();

/** JSON has no NaN/Infinity (JSON.stringify writes null): send them as the strings decodeJsonData accepts. */
function finiteOrString(v: number): number | string {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

/**
 * One JSON-ready element list (flat) from tensor data; FP16/BF16 become numbers, INT64 numbers, BYTES strings.
 * Non-finite floats become "NaN" / "Infinity" / "-Infinity" (JSON numbers cannot hold them).
 */
export function encodeJsonData(datatype: Datatype, data: TensorData): Array<number | boolean | string> {
  if (Array.isArray(data)) return data.map((b) => (typeof b === 'string' ? b : utf8.decode(b)));
  const arr = data as NumericArray;
  const n = arr.length;
  const out = new Array<number | boolean | string>(n);
  if (datatype === 'FP16') for (let i = 0; i < n; i++) out[i] = finiteOrString(fromFloat16Bits(arr[i] as number));
  else if (datatype === 'BF16') for (let i = 0; i < n; i++) out[i] = finiteOrString(fromBFloat16Bits(arr[i] as number));
  else if (datatype === 'BOOL') for (let i = 0; i < n; i++) out[i] = arr[i] !== 0;
  else if (datatype === 'INT64' || datatype === 'UINT64') for (let i = 0; i < n; i++) out[i] = Number(arr[i]);
  else if (datatype === 'FP32' || datatype === 'FP64')
    for (let i = 0; i < n; i++) out[i] = finiteOrString(arr[i] as number);
  else for (let i = 0; i < n; i++) out[i] = arr[i] as number;
  return out;
}

/** Nest a flat list by `shape` (V1 edge only): [2,3] → [[a,b,c],[d,e,f]]. A scalar shape returns the element. */
export function nest<T>(flat: T[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  if (shape.length === 1) return flat;
  const build = (offset: number, dim: number): unknown[] => {
    const size = shape[dim]!;
    if (dim === shape.length - 1) return flat.slice(offset, offset + size);
    const stride = elementCount(shape.slice(dim + 1));
    const rows = new Array<unknown>(size);
    for (let i = 0; i < size; i++) rows[i] = build(offset + i * stride, dim + 1);
    return rows;
  };
  return build(0, 0);
}
