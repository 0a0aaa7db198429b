import { PickleFormatError } from './errors.js';

/** A cursor over a byte buffer; every read checks bounds and reports truncation clearly. */
export class ByteReader {
  pos = 0;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left after the cursor. */
  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.bytes.byteLength) {
      throw new PickleFormatError(
        `file is truncated or corrupt: needed ${n} bytes for ${what} at offset ${this.pos}, only ${this.remaining} left`,
      );
    }
  }

  /** `n` bytes (a view, not a copy). */
  read(n: number, what = 'data'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** One unsigned byte. */
  u8(what = 'opcode'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  /** Unsigned 16-bit little-endian. */
  u16(): number {
    this.need(2, 'uint16');
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  /** Unsigned 32-bit little-endian. */
  u32(): number {
    this.need(4, 'uint32');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Signed 32-bit little-endian. */
  i32(): number {
    this.need(4, 'int32');
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Unsigned 64-bit little-endian, as a safe JS number. */
  u64(): number {
    this.need(8, 'uint64');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleFormatError(`length ${v} is too large`);
    return Number(v);
  }

  /** Big-endian float64 (pickle BINFLOAT). */
  f64be(): number {
    this.need(8, 'float64');
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** Bytes up to (excluding) the next newline; the newline is consumed. */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0)
      throw new PickleFormatError(`file is truncated or corrupt: unterminated text line at offset ${this.pos}`);
    const s = Buffer.from(this.bytes.subarray(this.pos, end)).toString('latin1');
    this.pos = end + 1;
    return s;
  }
}
