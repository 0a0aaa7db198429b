import { clip, InvalidInput } from '../errors.js';
import type { DecodeBudget } from '../limits.js';
import { elementCount } from '../protocols/infer-types.js';
import {
  allocate,
  type BytesArray,
  byteSize,
  type Datatype,
  type FixedDatatype,
  INTEGER_RANGES,
  isBigIntDatatype,
  type NumericArray,
  type TensorData,
} from './datatypes.js';
import { fromBFloat16Bits, fromFloat16Bits, toBFloat16Bits, toFloat16Bits } from './half-float.js';
import { type NumericBlock, readBigIntegers } from './json-numeric.js';

type Writer = (value: unknown, index: number) => void;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 20 ? `${v.slice(0, 20)}…` : v}"`;
  if (typeof v === 'object') return 'an object';
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
        // A JSON number beyond 2^53 was already rounded by the parser: refuse it rather than store a wrong value.
        if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
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
 * Element count of a client-supplied shape, checked: every dim a non-negative safe integer and the product a safe
 * integer (a 0 dim makes it 0, but its neighbours must still be valid dims). Throws InvalidInput naming `tensorName`.
 */
export function checkedElementCount(tensorName: string, shape: unknown): number {
  if (!Array.isArray(shape)) {
    throw new InvalidInput(`Input "${clip(tensorName)}": "shape" must be a list of non-negative integers.`);
  }
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new InvalidInput(
        `Input "${clip(tensorName)}": shape dims must be non-negative integers below 2^53, got ${clip(String(JSON.stringify(d)), 40)}.`,
      );
    }
    count *= d;
  }
  if (!Number.isSafeInteger(count)) {
    throw new InvalidInput(
      `Input "${clip(tensorName)}": shape ${clip(JSON.stringify(shape), 100)} has more than 2^53 elements.`,
    );
  }
  return count;
}

/** Options of {@link decodeJsonData}. */
export interface JsonDecodeOptions {
  /** The request's decoded-bytes budget, charged before the typed array is allocated. */
  budget?: DecodeBudget;
}

/** The element count `shape` needs, checked against the `count` elements the data holds (400 when they differ). */
function checkedDataCount(tensorName: string, shape: readonly number[], count: number): number {
  const expected = checkedElementCount(tensorName, shape);
  if (count !== expected) {
    throw new InvalidInput(
      `Input "${clip(tensorName)}": shape ${JSON.stringify(shape)} needs ${expected} elements but data has ${count}.`,
    );
  }
  return expected;
}

/**
 * Decode a JSON `data` field (flat or nested lists) straight into the typed array of `datatype`,
 * checking the element count against `shape` and every value against the datatype.
 * Errors are InvalidInput naming `tensorName`. Nested lists are walked without recursion.
 */
export function decodeJsonData(
  tensorName: string,
  datatype: Datatype,
  shape: readonly number[],
  data: unknown,
  options: JsonDecodeOptions = {},
): TensorData {
  const name = clip(tensorName);
  const values = Array.isArray(data) ? data : [data];
  // Count before allocating: the shape is client input and must not size an allocation the data cannot fill.
  const expected = checkedDataCount(tensorName, shape, countLeaves(values));
  const fail = (v: unknown): never => {
    if (isBigIntDatatype(datatype) && typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
      throw new InvalidInput(
        `Input "${name}": ${datatype} value ${v} is beyond 2^53 and cannot be read exactly from a JSON number; send it as a string ("${BigInt(v)}") or as binary data.`,
      );
    }
    throw new InvalidInput(`Input "${name}": value ${describe(v)} is not a valid ${datatype}.`);
  };
  if (datatype === 'BYTES') {
    const out: BytesArray = new Array<string>(expected);
    let bytes = 0;
    forEachLeaf(values, (v, i) => {
      if (typeof v !== 'string') fail(v);
      bytes += (v as string).length;
      out[i] = v as string;
    });
    options.budget?.take(bytes, `Input "${name}"`);
    return out;
  }
  options.budget?.take(expected * byteSize(datatype), `Input "${name}"`);
  const out = allocate(datatype, expected);
  forEachLeaf(values, writerFor(datatype, out, fail));
  return out;
}

/**
 * Decode a `data` list read straight from the body bytes (see `parseV2JsonBody`) into the typed array of
 * `datatype`, with the same checks as {@link decodeJsonData}: element count, values valid for the datatype, budget.
 * 64-bit integers are re-read exactly from the text when a double cannot hold them.
 */
export function decodeNumericBlock(
  tensorName: string,
  datatype: Datatype,
  shape: readonly number[],
  block: NumericBlock,
  options: JsonDecodeOptions = {},
): TensorData {
  const name = clip(tensorName);
  const expected = checkedDataCount(tensorName, shape, block.count);
  if (datatype === 'BYTES') return notValid(name, datatype, block.values[0]);
  options.budget?.take(expected * byteSize(datatype), `Input "${name}"`);
  if (datatype === 'FP64') return block.values.slice(0, expected);
  const out = allocate(datatype, expected);
  const values = block.values;
  if (datatype === 'FP32') {
    // A plain loop: no subarray view to allocate for the few values of a typical body.
    for (let i = 0; i < expected; i++) out[i] = values[i]!;
    return out;
  }
  // The checked writers and their failure closure are made here only (not on the FP32/FP64 path above).
  return writeChecked(name, datatype, block, out, expected);
}

/** Write a block's values into `out` with the datatype's checks (exact bigints re-read from the text when needed). */
function writeChecked(
  name: string,
  datatype: FixedDatatype,
  block: NumericBlock,
  out: NumericArray,
  expected: number,
): NumericArray {
  const fail = (v: unknown): never => notValid(name, datatype, v);
  if (isBigIntDatatype(datatype) && block.longIntegers) {
    const exact = readBigIntegers(block, (t) => fail(Number(t)));
    const write = writerFor(datatype, out, fail);
    for (let i = 0; i < expected; i++) write(exact[i], i);
    return out;
  }
  const write = writerFor(datatype, out, fail);
  const values = block.values;
  for (let i = 0; i < expected; i++) write(values[i], i);
  return out;
}

/** The 400 for a value of input `name` (already clipped) that is not a valid `datatype`. */
function notValid(name: string, datatype: Datatype, v: unknown): never {
  throw new InvalidInput(`Input "${name}": value ${describe(v)} is not a valid ${datatype}.`);
}

/**
 * Call `visit` on every non-array value of nested lists, in row-major order, with its flat index. Depth-first with
 * an explicit stack (no recursion); the innermost lists, where the values are, run in a tight loop.
 */
function forEachLeaf(root: unknown[], visit: Writer): void {
  const arrays: unknown[][] = [root];
  const positions: number[] = [0];
  let index = 0;
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const arr = arrays[top]!;
    let pos = positions[top]!;
    const n = arr.length;
    let descended = false;
    while (pos < n) {
      const v = arr[pos++];
      if (Array.isArray(v)) {
        positions[top] = pos;
        arrays.push(v);
        positions.push(0);
        descended = true;
        break;
      }
      visit(v, index++);
    }
    if (!descended) {
      arrays.pop();
      positions.pop();
    }
  }
}

/** Number of non-array values in nested lists: depth-first with an explicit stack, no recursion. */
function countLeaves(root: unknown[]): number {
  let count = 0;
  const arrays: unknown[][] = [root];
  const positions: number[] = [0];
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const arr = arrays[top]!;
    let pos = positions[top]!;
    const n = arr.length;
    let descended = false;
    while (pos < n) {
      if (Array.isArray(arr[pos++])) {
        positions[top] = pos;
        arrays.push(arr[pos - 1] as unknown[]);
        positions.push(0);
        descended = true;
        break;
      }
      count++;
    }
    if (!descended) {
      arrays.pop();
      positions.pop();
    }
  }
  return count;
}

const utf8 = new TextDecoder();

/** One element of a JSON-encoded tensor: bigint only for 64-bit integers beyond 2^53. */
export type JsonElement = number | boolean | string | bigint;

/** JSON has no NaN/Infinity (JSON.stringify writes null): send them as the strings decodeJsonData accepts. */
function finiteOrString(v: number): number | string {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

/**
 * One JSON-ready element list (flat) from tensor data; FP16/BF16 become numbers, BYTES strings, INT64/UINT64
 * numbers (bigints beyond 2^53, written exactly by {@link stringifyJson}).
 * Non-finite floats become "NaN" / "Infinity" / "-Infinity" (JSON numbers cannot hold them).
 */
export function encodeJsonData(datatype: Datatype, data: TensorData): JsonElement[] {
  if (Array.isArray(data)) return data.map((b) => (typeof b === 'string' ? b : utf8.decode(b)));
  const arr = data as NumericArray;
  const n = arr.length;
  const out = new Array<JsonElement>(n);
  if (datatype === 'FP16') for (let i = 0; i < n; i++) out[i] = finiteOrString(fromFloat16Bits(arr[i] as number));
  else if (datatype === 'BF16') for (let i = 0; i < n; i++) out[i] = finiteOrString(fromBFloat16Bits(arr[i] as number));
  else if (datatype === 'BOOL') for (let i = 0; i < n; i++) out[i] = arr[i] !== 0;
  else if (datatype === 'INT64' || datatype === 'UINT64')
    for (let i = 0; i < n; i++) {
      // Exact: a value beyond 2^53 stays a bigint, which the JSON writers emit as its exact digits.
      const b = arr[i] as bigint;
      const x = Number(b);
      out[i] = Number.isSafeInteger(x) ? x : b;
    }
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
