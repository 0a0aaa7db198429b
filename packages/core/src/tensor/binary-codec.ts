import { InvalidInput } from '../errors.js';
import { elementCount } from '../protocols/infer-types.js';
import { type BytesArray, byteSize, bytesOf, type Datatype, type TensorData, viewBytes } from './datatypes.js';

const utf8 = new TextEncoder();

/** Serialize BYTES elements as the OIP raw format: each a 4-byte little-endian length, then the bytes. */
export function serializeBytes(data: BytesArray): Uint8Array {
  const parts = data.map((e) => (typeof e === 'string' ? utf8.encode(e) : e));
  let total = 0;
  for (const p of parts) total += 4 + p.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    view.setUint32(off, p.byteLength, true);
    out.set(p, off + 4);
    off += 4 + p.byteLength;
  }
  return out;
}

/** Parse OIP raw BYTES (length-prefixed) into byte-string views (no copy). */
export function deserializeBytes(tensorName: string, raw: Uint8Array, count: number): BytesArray {
  // Every element needs its 4-byte length: reject impossible counts before sizing the list by them.
  if (count > raw.byteLength / 4) {
    throw new InvalidInput(
      `Input "${tensorName}": raw BYTES data of ${raw.byteLength} bytes cannot hold ${count} elements (4-byte length each).`,
    );
  }
  const out: Uint8Array[] = new Array(count);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (off + 4 > raw.byteLength) {
      throw new InvalidInput(`Input "${tensorName}": raw BYTES data ends after ${i} of ${count} elements.`);
    }
    const len = view.getUint32(off, true);
    off += 4;
    if (off + len > raw.byteLength) {
      throw new InvalidInput(`Input "${tensorName}": raw BYTES element ${i} is truncated (needs ${len} bytes).`);
    }
    out[i] = raw.subarray(off, off + len);
    off += len;
  }
  if (off !== raw.byteLength) {
    throw new InvalidInput(`Input "${tensorName}": raw BYTES data has ${raw.byteLength - off} trailing bytes.`);
  }
  return out;
}

/** Raw tensor bytes (binary extension / gRPC raw contents) as typed data; views, no per-element copy. */
export function decodeRawData(
  tensorName: string,
  datatype: Datatype,
  shape: readonly number[],
  raw: Uint8Array,
): TensorData {
  const count = elementCount(shape);
  if (datatype === 'BYTES') return deserializeBytes(tensorName, raw, count);
  const expected = count * byteSize(datatype);
  if (raw.byteLength !== expected) {
    throw new InvalidInput(
      `Input "${tensorName}": ${datatype} shape ${JSON.stringify(shape)} needs ${expected} bytes of raw data but got ${raw.byteLength}.`,
    );
  }
  return viewBytes(datatype, raw);
}

/** Tensor data as raw bytes (a view for typed arrays; serialized for BYTES). */
export function encodeRawData(data: TensorData): Uint8Array {
  return Array.isArray(data) ? serializeBytes(data) : bytesOf(data);
}
