/**
 * A Universal Binary JSON (UBJSON, ubjson.org draft 12) decoder, as XGBoost writes `model.ubj`:
 * big-endian numbers, length-prefixed strings and keys, and optimized typed arrays (`[$d#L<n>...`)
 * which decode to plain number arrays.
 */

/** A decoded UBJSON value. */
export type UbjValue = null | boolean | number | bigint | string | UbjValue[] | { [key: string]: UbjValue };

/** Thrown for malformed UBJSON; the message says what and where (byte offset). */
export class UbjsonError extends Error {}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Cursor over UBJSON bytes. */
class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) {
      throw new UbjsonError(
        `truncated: ${what} needs ${n} byte(s) at offset ${this.pos}, but the data ends at ${this.bytes.length}`,
      );
    }
  }

  marker(): number {
    this.need(1, 'a type marker');
    return this.bytes[this.pos++]!;
  }

  peek(): number {
    this.need(1, 'a type marker');
    return this.bytes[this.pos]!;
  }

  /** Reads a scalar of the given numeric type marker. */
  number(m: number): number | bigint {
    const at = this.pos;
    switch (m) {
      case 0x69: // i int8
        this.need(1, 'int8');
        this.pos += 1;
        return this.view.getInt8(at);
      case 0x55: // U uint8
        this.need(1, 'uint8');
        this.pos += 1;
        return this.view.getUint8(at);
      case 0x49: // I int16
        this.need(2, 'int16');
        this.pos += 2;
        return this.view.getInt16(at);
      case 0x6c: // l int32
        this.need(4, 'int32');
        this.pos += 4;
        return this.view.getInt32(at);
      case 0x4c: {
        // L int64
        this.need(8, 'int64');
        this.pos += 8;
        const v = this.view.getBigInt64(at);
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 0x64: // d float32
        this.need(4, 'float32');
        this.pos += 4;
        return this.view.getFloat32(at);
      case 0x44: // D float64
        this.need(8, 'float64');
        this.pos += 8;
        return this.view.getFloat64(at);
      default:
        throw new UbjsonError(`expected a numeric type marker at offset ${at - 1}, found ${describe(m)}`);
    }
  }

  /** Reads a length/count (an integer with its own marker). */
  length(what: string): number {
    const at = this.pos;
    const v = this.number(this.marker());
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new UbjsonError(`invalid ${what} ${String(v)} at offset ${at}`);
    }
    return v;
  }

  string(what: string): string {
    const n = this.length(`${what} length`);
    this.need(n, what);
    const s = decoder.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  value(m: number, depth: number): UbjValue {
    if (depth > 256) throw new UbjsonError(`nesting deeper than 256 at offset ${this.pos}`);
    switch (m) {
      case 0x5a: // Z null
        return null;
      case 0x4e: // N no-op (only meaningful inside containers); treat as null
        return null;
      case 0x54: // T
        return true;
      case 0x46: // F
        return false;
      case 0x43: // C char
        this.need(1, 'char');
        return String.fromCharCode(this.bytes[this.pos++]!);
      case 0x53: // S string
        return this.string('string');
      case 0x48: // H high-precision number, as a decimal string
        return Number(this.string('high-precision number'));
      case 0x5b: // [
        return this.array(depth);
      case 0x7b: // {
        return this.object(depth);
      default:
        return this.number(m);
    }
  }

  /** Reads an optional `$type` and `#count` container header. */
  private containerHeader(): { type?: number; count?: number } {
    let type: number | undefined;
    let count: number | undefined;
    if (this.peek() === 0x24) {
      this.pos += 1;
      type = this.marker();
      if (this.peek() !== 0x23) throw new UbjsonError(`typed container without a count at offset ${this.pos}`);
    }
    if (this.peek() === 0x23) {
      this.pos += 1;
      count = this.length('container count');
    }
    return { type, count };
  }

  private array(depth: number): UbjValue[] {
    const { type, count } = this.containerHeader();
    if (count !== undefined) {
      if (type !== undefined && count > this.bytes.length) {
        throw new UbjsonError(`array count ${count} exceeds the data size at offset ${this.pos}`);
      }
      const out: UbjValue[] = new Array(count);
      for (let i = 0; i < count; i++) out[i] = this.value(type ?? this.marker(), depth + 1);
      return out;
    }
    const out: UbjValue[] = [];
    for (;;) {
      const m = this.marker();
      if (m === 0x5d) return out;
      if (m === 0x4e) continue;
      out.push(this.value(m, depth + 1));
    }
  }

  private object(depth: number): { [key: string]: UbjValue } {
    const { type, count } = this.containerHeader();
    const out: { [key: string]: UbjValue } = Object.create(null);
    if (count !== undefined) {
      for (let i = 0; i < count; i++) {
        const key = this.string('object key');
        out[key] = this.value(type ?? this.marker(), depth + 1);
      }
      return out;
    }
    for (;;) {
      const m = this.peek();
      if (m === 0x7d) {
        this.pos += 1;
        return out;
      }
      if (m === 0x4e) {
        this.pos += 1;
        continue;
      }
      const key = this.string('object key');
      out[key] = this.value(this.marker(), depth + 1);
    }
  }
}

function describe(m: number): string {
  const c = m >= 0x20 && m < 0x7f ? ` '${String.fromCharCode(m)}'` : '';
  return `0x${m.toString(16).padStart(2, '0')}${c}`;
}

/** Decodes one UBJSON value from `bytes`; throws UbjsonError on malformed or truncated input or trailing bytes. */
export function decodeUbjson(bytes: Uint8Array): UbjValue {
  const r = new Reader(bytes);
  const v = r.value(r.marker(), 0);
  if (r.pos !== bytes.length) {
    throw new UbjsonError(`${bytes.length - r.pos} unexpected trailing byte(s) after the value at offset ${r.pos}`);
  }
  return v;
}
