/** The Open Inference Protocol (V2) tensor datatypes. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'BF16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

/** One of the V2 datatype names, e.g. `FP32`. */
export type Datatype = (typeof DATATYPES)[number];

/** Typed array used for each fixed-size datatype. FP16/BF16 hold raw 16-bit patterns. */
export interface TypedArrayByDatatype {
  BOOL: Uint8Array;
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  UINT32: Uint32Array;
  UINT64: BigUint64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  FP16: Uint16Array;
  BF16: Uint16Array;
  FP32: Float32Array;
  FP64: Float64Array;
}

/** Datatypes with a fixed element size (everything but BYTES). */
export type FixedDatatype = keyof TypedArrayByDatatype;

/** Any typed array a tensor can hold. */
export type NumericArray = TypedArrayByDatatype[FixedDatatype];

/** BYTES tensor elements: raw byte strings or JS strings (UTF-8 on the wire). */
export type BytesArray = Array<Uint8Array | string>;

/** The data of one tensor: a typed array, or a list of byte strings for BYTES. */
export type TensorData = NumericArray | BytesArray;

type TypedArrayCtor = {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CTORS: Record<FixedDatatype, TypedArrayCtor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array as unknown as TypedArrayCtor,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array as unknown as TypedArrayCtor,
  FP16: Uint16Array,
  BF16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** True when `value` names a V2 datatype. */
export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

/** Datatypes whose elements are bigint (64-bit integers). */
export function isBigIntDatatype(dt: Datatype): dt is 'INT64' | 'UINT64' {
  return dt === 'INT64' || dt === 'UINT64';
}

/** Bytes per element of a fixed-size datatype. */
export function byteSize(dt: FixedDatatype): number {
  return CTORS[dt].BYTES_PER_ELEMENT;
}

/** A zero-filled typed array for `dt` with `length` elements. */
export function allocate<D extends FixedDatatype>(dt: D, length: number): TypedArrayByDatatype[D] {
  return new CTORS[dt](length) as TypedArrayByDatatype[D];
}

/**
 * A typed-array view of `bytes` for `dt` with no copy when the offset is aligned;
 * an aligned copy otherwise (typed arrays require element alignment).
 */
export function viewBytes<D extends FixedDatatype>(dt: D, bytes: Uint8Array): TypedArrayByDatatype[D] {
  const ctor = CTORS[dt];
  const size = ctor.BYTES_PER_ELEMENT;
  const length = bytes.byteLength / size;
  if (bytes.byteOffset % size === 0) {
    return new ctor(bytes.buffer, bytes.byteOffset, length) as TypedArrayByDatatype[D];
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new ctor(copy.buffer, 0, length) as TypedArrayByDatatype[D];
}

/** The bytes of a typed array, as a view (no copy). */
export function bytesOf(data: NumericArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Inclusive integer range of each integer datatype, used to validate JSON numbers. */
export const INTEGER_RANGES: Partial<Record<FixedDatatype, readonly [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
};
