import { InvalidInput } from '../errors.js';

/** Protobuf wire types (https://protobuf.dev/programming-guides/encoding/). */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/**
 * A bounds-checked protobuf reader over one message (a slice of a received buffer). Every malformed input
 * (a truncated varint, a length past the end, an unknown wire type) throws InvalidInput naming `what`;
 * varints are read as two 32-bit halves (`lo`, `hi`) so that no 64-bit value ever becomes a BigInt or string.
 */
export class ProtoReader {
  /** Current position in `buf`. */
  pos: number;
  /** Low 32 bits of the last varint read (unsigned). */
  lo = 0;
  /** High 32 bits of the last varint read (unsigned). */
  hi = 0;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    readonly what: string,
  ) {
    this.pos = start;
  }

  /** True when the whole message has been read. */
  done(): boolean {
    return this.pos >= this.end;
  }

  /** Throw InvalidInput for this message. */
  fail(reason: string): never {
    throw new InvalidInput(`Malformed ${this.what}: ${reason}.`);
  }

  /** Read one varint into `lo`/`hi`. */
  varint(): void {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail('truncated varint');
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    if (pos >= end) this.fail('truncated varint');
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (let shift = 3; shift < 32; shift += 7) {
        if (pos >= end) this.fail('truncated varint');
        b = buf[pos++]!;
        hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
        if (shift + 7 >= 32) this.fail('varint longer than 10 bytes');
      }
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** Wire type of the last tag read by {@link tag}. */
  wire = 0;

  /** Read a field tag; returns its field number and leaves its wire type in `wire`. */
  tag(): number {
    this.varint();
    if (this.hi !== 0 || this.lo >>> 3 === 0) this.fail('invalid field tag');
    const wire = this.lo & 7;
    if (wire === WireType.SGROUP || wire === WireType.EGROUP || wire > WireType.I32) {
      this.fail(`unsupported wire type ${wire} for field ${this.lo >>> 3}`);
    }
    this.wire = wire;
    return this.lo >>> 3;
  }

  /** Read a length prefix and return [start, end] of the delimited bytes. */
  delimited(): [number, number] {
    this.varint();
    const len = this.hi === 0 ? this.lo : Number.POSITIVE_INFINITY;
    if (len > this.end - this.pos) this.fail('length-delimited field runs past the end of the message');
    const start = this.pos;
    this.pos += len;
    return [start, this.pos];
  }

  /** Read a length-delimited UTF-8 string. */
  string(): string {
    const [s, e] = this.delimited();
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + s, e - s).toString('utf8');
  }

  /** Read a length-delimited field as a view (no copy). */
  bytes(): Uint8Array {
    const [s, e] = this.delimited();
    return this.buf.subarray(s, e);
  }

  /** Skip one field of the given wire type. */
  skip(wire: number): void {
    if (wire === WireType.VARINT) this.varint();
    else if (wire === WireType.LEN) this.delimited();
    else {
      const n = wire === WireType.I64 ? 8 : 4;
      if (this.end - this.pos < n) this.fail('truncated fixed-size field');
      this.pos += n;
    }
  }

  /** Fail unless `wire` is the expected wire type of `field`. */
  expect(wire: number, expected: number, field: string): void {
    if (wire !== expected) this.fail(`field ${field} has wire type ${wire}, expected ${expected}`);
  }
}

/** Bytes needed to encode `v` (a non-negative integer below 2^53) as a varint. */
export function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Bytes the UTF-8 encoding of `s` takes. */
export function utf8Size(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** A protobuf writer into a buffer sized beforehand (callers compute sizes with {@link varintSize}). */
export class ProtoWriter {
  /** Current position in `buf`. */
  pos = 0;

  constructor(readonly buf: Buffer) {}

  /** Write a non-negative integer below 2^53 as a varint. */
  varint(v: number): void {
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  /** Write a signed 64-bit integer (two's complement varint; negative values take 10 bytes). */
  int64(v: number): void {
    if (v >= 0) {
      this.varint(v);
      return;
    }
    let lo = Number(BigInt.asUintN(64, BigInt(v)) & 0xffffffffn);
    let hi = Number(BigInt.asUintN(64, BigInt(v)) >> 32n);
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = (lo >>> 7) | ((hi & 0x7f) << 25);
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo & 0x01;
  }

  /** Write a field tag. */
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** Write a length-delimited UTF-8 string field. */
  string(field: number, s: string, size: number): void {
    this.tag(field, WireType.LEN);
    this.varint(size);
    this.pos += this.buf.write(s, this.pos, size, 'utf8');
  }

  /** Write a length-delimited bytes field. */
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, WireType.LEN);
    this.varint(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }
}

/** Bytes a signed 64-bit varint of `v` takes (10 for negatives). */
export function int64Size(v: number): number {
  return v < 0 ? 10 : varintSize(v);
}
