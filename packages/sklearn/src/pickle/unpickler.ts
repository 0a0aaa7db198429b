/**
 * A restricted unpickler for pickle protocols 0-5. It interprets the opcodes itself and never runs
 * Python: each opcode byte has a handler in opcodes/ (table.ts), grouped by family; globals go through
 * the allow-list (allow-list.ts), and calls (REDUCE, NEWOBJ, BUILD) on them produce inert records or
 * numpy arrays rebuilt in opcodes/objects.ts. Opcodes without a handler are refused.
 */
import { ByteReader } from './byte-reader.js';
import { PickleFormatError } from './errors.js';
import { PickleBudget, PickleLimitError, type PickleLimits, pickleLimits, SLOT_BYTES } from './limits.js';
import { MARK, type StackItem, type UnpicklerState } from './opcodes/state.js';
import { OPCODES } from './opcodes/table.js';
import type { PyValue } from './py-types.js';

export { longFromBytes } from './opcodes/numbers.js';

/** Options of one unpickle run: the size caps (limits.ts), defaults for the ones left out. */
export type UnpickleOptions = Partial<PickleLimits>;

/** Unpickle one pickle (up to its STOP opcode) from the reader's position, without executing anything. */
export function unpickle(reader: ByteReader, options: UnpickleOptions = {}): PyValue {
  return new RestrictedUnpickler(reader, new PickleBudget(pickleLimits(options)), { n: 0 }).load();
}

/** Unpickle a whole byte buffer (a plain .pkl/.pickle or a decompressed joblib stream). */
export function unpickleBytes(bytes: Uint8Array, options: UnpickleOptions = {}): PyValue {
  return unpickle(new ByteReader(bytes), options);
}

/** The pickle machine: stack, memo and budget; each opcode is run by its handler in opcodes/. */
class RestrictedUnpickler implements UnpicklerState {
  readonly stack: StackItem[] = [];
  readonly memo = new Map<number, PyValue>();
  private stopped = false;
  private result: PyValue = null;

  constructor(
    readonly r: ByteReader,
    readonly budget: PickleBudget,
    /** Opcodes executed, shared with nested unpicklers (joblib object arrays). */
    private readonly ops: { n: number },
  ) {}

  get limits(): PickleLimits {
    return this.budget.limits;
  }

  /** Run opcodes from the reader's position up to STOP, within the opcode cap. */
  load(): PyValue {
    const { r, ops } = this;
    const maxOps = this.limits.maxOps;
    for (; ops.n < maxOps; ops.n++) {
      const op = r.u8();
      const handler = OPCODES[op];
      if (!handler) {
        throw new PickleFormatError(
          `corrupt pickle: unknown opcode 0x${op.toString(16).padStart(2, '0')} at offset ${r.pos - 1}`,
        );
      }
      handler(this);
      if (this.stopped) return this.result;
    }
    throw new PickleFormatError('pickle exceeds the opcode limit');
  }

  stop(result: PyValue): void {
    this.stopped = true;
    this.result = result;
  }

  loadNested(): PyValue {
    return new RestrictedUnpickler(this.r, this.budget, this.ops).load();
  }

  bytesOf(n: number, what: string): Uint8Array {
    if (n > this.r.remaining) this.r.read(n, what); // throws the truncation error
    this.budget.charge(n, `a ${n}-byte ${what}`);
    return this.r.read(n, what);
  }

  popMarkCharged(what: string): PyValue[] {
    const items = this.popMark();
    this.budget.charge(items.length * SLOT_BYTES, `a ${what} of ${items.length} items`);
    return items;
  }

  memoSet(i: number, v: PyValue): void {
    if (!Number.isSafeInteger(i) || i < 0) throw new PickleFormatError('corrupt pickle: bad memo index');
    if (!this.memo.has(i)) {
      if (this.memo.size >= this.limits.maxMemoEntries) {
        throw new PickleLimitError(`pickle memo exceeds ${this.limits.maxMemoEntries} entries`);
      }
      this.budget.charge(2 * SLOT_BYTES, 'a memo entry');
    }
    this.memo.set(i, v);
  }

  memoGet(i: number): PyValue {
    if (!this.memo.has(i)) throw new PickleFormatError(`corrupt pickle: memo entry ${i} is missing`);
    return this.memo.get(i)!;
  }

  pop(): PyValue {
    if (this.stack.length === 0) throw new PickleFormatError('corrupt pickle: stack underflow');
    const v = this.stack.pop()!;
    if (v === MARK) throw new PickleFormatError('corrupt pickle: unexpected MARK on the stack');
    return v;
  }

  top(): PyValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined || v === MARK) throw new PickleFormatError('corrupt pickle: stack underflow');
    return v;
  }

  popMark(): PyValue[] {
    const i = this.stack.lastIndexOf(MARK);
    if (i < 0) throw new PickleFormatError('corrupt pickle: no MARK on the stack');
    const items = this.stack.slice(i + 1) as PyValue[];
    this.stack.length = i;
    return items;
  }
}
