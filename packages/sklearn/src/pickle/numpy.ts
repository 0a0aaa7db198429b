/** numpy dtypes and arrays rebuilt from their pickled state (dtype.__setstate__, ndarray.__setstate__). */
import { PickleFormatError } from './errors.js';
import type { DType, DTypeField, NdArray, NdData, PyValue } from './py-types.js';
import { isDType, isPyDict } from './py-types.js';

const CHAR_OF: Record<string, DType['char']> = {
  f: 'f',
  d: 'f',
  i: 'i',
  l: 'i',
  q: 'i',
  u: 'u',
  b: 'b',
  '?': 'b',
  O: 'O',
  U: 'U',
  S: 'S',
  a: 'S',
  V: 'V',
};

/** Parse a numpy type string such as 'f8', '<i4', '|b1', 'O8', 'U6', 'V56' (what `numpy.dtype(...)` is reduced with). */
export function parseDTypeString(spec: string): DType {
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(spec);
  if (!m) throw new PickleFormatError(`unsupported numpy dtype '${spec}'`);
  const [, order, letter, size] = m as unknown as [string, string, string, string];
  const char = CHAR_OF[letter];
  if (!char) throw new PickleFormatError(`unsupported numpy dtype '${spec}'`);
  let itemsize = size ? Number(size) : 0;
  if (!size) {
    if (letter === 'd' || letter === 'q' || letter === 'l' || char === 'O') itemsize = 8;
    else if (letter === '?' || letter === 'b') itemsize = 1;
  }
  if (char === 'U') itemsize *= 4;
  const byteOrder = order === '>' ? '>' : itemsize <= 1 || char === 'O' || char === 'S' || char === 'V' ? '|' : '<';
  return { kind: 'dtype', char, itemsize, byteOrder };
}

/** Apply numpy's dtype `__setstate__` tuple (versions 1-4) to a dtype made by `numpy.dtype(spec, align, copy)`. */
export function setDTypeState(dt: DType, state: PyValue): void {
  if (!Array.isArray(state)) throw new PickleFormatError('numpy dtype state is not a tuple');
  const version = state[0];
  const endian = state[1];
  if (endian === '>') dt.byteOrder = '>';
  else if (endian === '<') dt.byteOrder = '<';
  let names: PyValue;
  let fields: PyValue;
  let elsize: PyValue;
  if (version === 3 || version === 4) {
    names = state[3] ?? null;
    fields = state[4] ?? null;
    elsize = state[5] ?? -1;
  } else if (version === 2 || version === 1) {
    names = state[2] ?? null;
    fields = state[3] ?? null;
    elsize = state[4] ?? -1;
  } else {
    throw new PickleFormatError(`unsupported numpy dtype state version ${String(version)}`);
  }
  if (typeof elsize === 'number' && elsize > 0 && (dt.char === 'U' || dt.char === 'S' || dt.char === 'V')) {
    dt.itemsize = elsize;
  }
  if (Array.isArray(names) && isPyDict(fields)) {
    const out: DTypeField[] = [];
    for (const name of names) {
      const f = fields.get(name);
      if (!Array.isArray(f) || !isDType(f[0]) || typeof f[1] !== 'number') {
        throw new PickleFormatError(`numpy structured dtype field '${String(name)}' is malformed`);
      }
      out.push({ name: String(name), dtype: f[0], offset: f[1] });
    }
    dt.fields = out;
  }
}

/** Number of elements of a shape. */
export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Decode `count` elements of a (non-object, non-structured) dtype from raw bytes at `offset`, with `stride` bytes per element. */
function decodeColumn(bytes: Uint8Array, dt: DType, count: number, offset: number, stride: number): NdData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dt.byteOrder !== '>';
  const need = count === 0 ? 0 : offset + (count - 1) * stride + dt.itemsize;
  if (need > bytes.byteLength) {
    throw new PickleFormatError(`numpy array data is truncated: need ${need} bytes, have ${bytes.byteLength}`);
  }
  const key = `${dt.char}${dt.itemsize}`;
  const at = (i: number): number => offset + i * stride;
  switch (key) {
    case 'f8': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at(i), le);
      return out;
    }
    case 'f4': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(at(i), le);
      return out;
    }
    case 'f2': {
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint16(at(i), le);
      return out;
    }
    case 'i8': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(at(i), le);
      return out;
    }
    case 'i4': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at(i), le);
      return out;
    }
    case 'i2': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(at(i), le);
      return out;
    }
    case 'i1': {
      const out = new Int8Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt8(at(i));
      return out;
    }
    case 'u8': {
      const out = new BigUint64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigUint64(at(i), le);
      return out;
    }
    case 'u4': {
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint32(at(i), le);
      return out;
    }
    case 'u2': {
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint16(at(i), le);
      return out;
    }
    case 'u1':
    case 'b1': {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint8(at(i));
      return out;
    }
    default:
      break;
  }
  if (dt.char === 'U') {
    const out: string[] = [];
    const chars = dt.itemsize / 4;
    for (let i = 0; i < count; i++) {
      let s = '';
      for (let c = 0; c < chars; c++) {
        const cp = view.getUint32(at(i) + c * 4, le);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      out.push(s);
    }
    return out;
  }
  if (dt.char === 'S') {
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      let end = at(i) + dt.itemsize;
      while (end > at(i) && bytes[end - 1] === 0) end--;
      out.push(bytes.slice(at(i), end));
    }
    return out;
  }
  throw new PickleFormatError(`unsupported numpy dtype ${dt.byteOrder}${dt.char}${dt.itemsize}`);
}

/** Reorder a Fortran-ordered flat element list into C order. */
function fortranToC<T extends NdData>(data: T, shape: number[]): T {
  if (shape.length < 2) return data;
  const n = sizeOf(shape);
  const out = (Array.isArray(data) ? new Array(n) : new (data.constructor as new (n: number) => T)(n)) as T;
  const idx = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    let mul = 1;
    for (let d = 0; d < shape.length; d++) {
      f += idx[d]! * mul;
      mul *= shape[d]!;
    }
    (out as unknown as unknown[])[c] = (data as unknown as unknown[])[f];
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]! += 1;
      if (idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Build an NdArray from raw element bytes (numeric, string or structured dtypes). */
export function arrayFromBytes(dt: DType, shape: number[], bytes: Uint8Array, fortran: boolean): NdArray {
  const count = sizeOf(shape);
  if (dt.char === 'O') throw new PickleFormatError('object arrays cannot be read from raw bytes');
  if (bytes.byteLength < count * dt.itemsize) {
    throw new PickleFormatError(
      `numpy array data is truncated: shape [${shape.join(',')}] of ${dt.char}${dt.itemsize} needs ${count * dt.itemsize} bytes, have ${bytes.byteLength}`,
    );
  }
  if (dt.fields) {
    const fields = new Map<string, NdArray>();
    for (const f of dt.fields) {
      if (f.dtype.fields || f.dtype.char === 'O') {
        throw new PickleFormatError(`structured dtype field '${f.name}' of a nested/object type is not supported`);
      }
      let col = decodeColumn(bytes, f.dtype, count, f.offset, dt.itemsize);
      if (fortran) col = fortranToC(col, shape);
      fields.set(f.name, { kind: 'ndarray', dtype: f.dtype, shape: [...shape], data: col });
    }
    return { kind: 'ndarray', dtype: dt, shape, data: [], fields };
  }
  let data = decodeColumn(bytes, dt, count, 0, dt.itemsize);
  if (fortran) data = fortranToC(data, shape);
  return { kind: 'ndarray', dtype: dt, shape, data };
}

/** Build an object-dtype NdArray from its element list. */
function arrayFromList(dt: DType, shape: number[], items: PyValue[], fortran: boolean): NdArray {
  if (items.length !== sizeOf(shape)) {
    throw new PickleFormatError(`numpy object array has ${items.length} items for shape [${shape.join(',')}]`);
  }
  return { kind: 'ndarray', dtype: dt, shape, data: fortran ? fortranToC(items, shape) : items };
}

/** Apply ndarray `__setstate__` ((version, shape, dtype, is_fortran, rawdata)) to an array placeholder. */
export function setArrayState(arr: NdArray, state: PyValue): void {
  if (!Array.isArray(state)) throw new PickleFormatError('numpy array state is not a tuple');
  const rest = state.length === 5 ? state.slice(1) : state;
  const [shapeV, dtV, fortranV, raw] = rest;
  if (!Array.isArray(shapeV) || !isDType(dtV)) throw new PickleFormatError('numpy array state is malformed');
  const shape = shapeV.map((d) => Number(d));
  const fortran = fortranV === true || fortranV === 1;
  let built: NdArray;
  if (Array.isArray(raw)) built = arrayFromList(dtV, shape, raw, fortran);
  else if (raw instanceof Uint8Array) built = arrayFromBytes(dtV, shape, raw, fortran);
  else if (typeof raw === 'string') built = arrayFromBytes(dtV, shape, latin1(raw), fortran);
  else throw new PickleFormatError('numpy array state has no data');
  arr.dtype = built.dtype;
  arr.shape = built.shape;
  arr.data = built.data;
  if (built.fields) arr.fields = built.fields;
}

/** Bytes of a latin-1 string (how protocol 0-2 pickles carry bytes). */
export function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new PickleFormatError('latin-1 byte string holds a character above U+00FF');
    out[i] = c;
  }
  return out;
}

/** A numpy scalar (`numpy.core.multiarray.scalar(dtype, bytes)`) as a JS number/bigint/string. */
export function scalarFromBytes(dt: DType, raw: PyValue): PyValue {
  const bytes = raw instanceof Uint8Array ? raw : typeof raw === 'string' ? latin1(raw) : null;
  if (!bytes) {
    if (dt.char === 'O') return raw;
    throw new PickleFormatError('numpy scalar has no data');
  }
  const data = decodeColumn(bytes, dt, 1, 0, dt.itemsize);
  const v = (data as ArrayLike<unknown>)[0];
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (dt.char === 'b') return v !== 0;
  return v as PyValue;
}
