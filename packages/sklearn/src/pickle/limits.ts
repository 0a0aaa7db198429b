/**
 * Size limits of the restricted unpickler. A model file is untrusted input: every opcode that allocates is
 * checked against these caps BEFORE it allocates, and everything it builds is charged to one budget per file.
 */
import { PickleFormatError } from './errors.js';

const MiB = 1024 * 1024;

/** Caps applied while decompressing and unpickling one model file. */
export interface PickleLimits {
  /**
   * The file budget: the most bytes the decompressed pickle stream may hold (the inflate cap of
   * zlib/gzip joblib files), and separately the most bytes the values built from it may take
   * (strings, bytes, container slots, numpy arrays). Default 1 GiB (`--model_max_bytes`).
   */
  maxBytes: number;
  /**
   * Most a compressed joblib file may inflate relative to its compressed size, beyond the first 64 MiB
   * (real models compress 2-20×, zlib bombs ~1000×). Default 200.
   */
  maxInflateRatio: number;
  /** Longest Python int (LONG, LONG1, LONG4, INT/LONG text) in bytes of two's complement. Default 1024. */
  maxLongBytes: number;
  /** Most memo entries (PUT, BINPUT, LONG_BINPUT, MEMOIZE). Default 10 million. */
  maxMemoEntries: number;
  /** Most opcodes executed (guards against hostile loops of DUP/POP). Default 50 million. */
  maxOps: number;
}

/** The default caps: generous for real scikit-learn models, far below what would stall or exhaust a server. */
export const DEFAULT_PICKLE_LIMITS: Readonly<PickleLimits> = Object.freeze({
  maxBytes: 1024 * MiB,
  maxInflateRatio: 200,
  maxLongBytes: 1024,
  maxMemoEntries: 10_000_000,
  maxOps: 50_000_000,
});

/** The file exceeds one of the unpickler's limits; it names the limit and how to raise it when it can be raised. */
export class PickleLimitError extends PickleFormatError {
  constructor(message: string) {
    super(message);
    Object.defineProperty(this, 'name', { value: 'PickleLimitError' });
  }
}

/** The limits with defaults filled in for the missing ones. */
export function pickleLimits(partial: Partial<PickleLimits> = {}): PickleLimits {
  const out = { ...DEFAULT_PICKLE_LIMITS };
  for (const key of Object.keys(out) as (keyof PickleLimits)[]) {
    const v = partial[key];
    if (v !== undefined) {
      if (!Number.isFinite(v) || v <= 0) throw new RangeError(`pickle limit ${key} must be a positive number`);
      out[key] = v;
    }
  }
  return out;
}

/** Inflated bytes always allowed, whatever the compression ratio. */
const INFLATE_FREE_BYTES = 64 * MiB;

/** Most dimensions of a numpy array (numpy itself allows 64). */
export const MAX_ARRAY_DIMS = 64;

/** The inflate cap of a compressed file of `compressedBytes`: the file budget, and the ratio beyond 64 MiB. */
export function inflateCap(compressedBytes: number, limits: PickleLimits): number {
  return Math.min(limits.maxBytes, Math.max(INFLATE_FREE_BYTES, compressedBytes * limits.maxInflateRatio));
}

/** Bytes charged per container slot (a reference in a list, tuple, dict or set). */
export const SLOT_BYTES = 8;

/** Running total of what one unpickle run has built, refused past `maxBytes`. */
export class PickleBudget {
  private used = 0;

  constructor(readonly limits: PickleLimits) {}

  /** Charge `bytes` for `what`, before allocating it; throws PickleLimitError past the budget. */
  charge(bytes: number, what: string): void {
    if (!Number.isFinite(bytes) || bytes < 0) throw new PickleLimitError(`corrupt pickle: ${what} has an invalid size`);
    this.used += bytes;
    if (this.used > this.limits.maxBytes) {
      throw new PickleLimitError(
        `model file is too large: ${what} takes the values built from it past the ${this.limits.maxBytes}-byte budget (--model_max_bytes)`,
      );
    }
  }
}
