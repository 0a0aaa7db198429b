// Protocol Buffers wire format, at the level of fields: enough to read the few fields of an ONNX ModelProto that
// servekit looks at and to splice messages without decoding the rest (a tree ensemble's large attribute arrays are
// copied as bytes). No schema: field numbers are the caller's.

/** One field of a message: its number, wire type, and where it lies in the message's buffer. */
export interface WireField {
  /** Field number. */
  no: number;
  /** Wire type: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  type: number;
  /** Offset of the field's tag (its first byte). */
  start: number;
  /** Offset of the value: the payload of a length-delimited field, else the varint or fixed bytes. */
  valueStart: number;
  /** Offset just past the field. */
  end: number;
}

/** A buffer that is not the protobuf message it was read as. */
export class MalformedProtobuf extends Error {}

/** Reads a varint at `pos` as a bigint (exact for int64); returns it and the offset after it. */
export function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i]!;
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [value, i + 1];
    shift += 7n;
  }
  throw new MalformedProtobuf(`truncated varint at byte ${pos}`);
}

/** Reads a varint that must fit a JS number (lengths, tags, enums). */
function readSmallVarint(buf: Uint8Array, pos: number): [number, number] {
  const [v, next] = readVarint(buf, pos);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedProtobuf(`varint at byte ${pos} is too large`);
  return [Number(v), next];
}

/** The fields of the message in `buf[start, end)`, in order. */
export function fieldsOf(buf: Uint8Array, start = 0, end = buf.length): WireField[] {
  const fields: WireField[] = [];
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = readSmallVarint(buf, pos);
    const no = Math.floor(tag / 8);
    const type = tag & 7;
    let valueStart = afterTag;
    let next: number;
    if (type === 0) next = readVarint(buf, afterTag)[1];
    else if (type === 1) next = afterTag + 8;
    else if (type === 5) next = afterTag + 4;
    else if (type === 2) {
      const [len, afterLen] = readSmallVarint(buf, afterTag);
      valueStart = afterLen;
      next = afterLen + len;
    } else throw new MalformedProtobuf(`unsupported wire type ${type} at byte ${pos}`);
    if (no === 0 || next > end) throw new MalformedProtobuf(`field at byte ${pos} runs past its message`);
    fields.push({ no, type, start: pos, valueStart, end: next });
    pos = next;
  }
  return fields;
}

const utf8 = new TextDecoder();

/** A length-delimited field's payload as UTF-8 text. */
export function stringOf(buf: Uint8Array, f: WireField): string {
  return utf8.decode(buf.subarray(f.valueStart, f.end));
}

/** The values of a repeated int64 field (packed or not), as decimal strings (exact). */
export function int64sOf(buf: Uint8Array, fields: WireField[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    if (f.type === 0) out.push(BigInt.asIntN(64, readVarint(buf, f.valueStart)[0]).toString());
    else if (f.type === 2) {
      for (let pos = f.valueStart; pos < f.end; ) {
        const [v, next] = readVarint(buf, pos);
        out.push(BigInt.asIntN(64, v).toString());
        pos = next;
      }
    }
  }
  return out;
}

/** The varint encoding of a non-negative integer. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** Concatenation of byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A length-delimited field `no` holding `payload` (a string's UTF-8 bytes or an encoded message). */
export function lenField(no: number, payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return concatBytes([Uint8Array.from([...varint(no * 8 + 2), ...varint(bytes.length)]), bytes]);
}

/** A varint field `no` holding the non-negative integer `value`. */
export function varintField(no: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(no * 8), ...varint(value)]);
}
