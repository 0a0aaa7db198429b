/** What an opcode handler of the restricted unpickler sees: the stream, the stack, the memo and the budget. */
import type { ByteReader } from '../byte-reader.js';
import type { PickleBudget, PickleLimits } from '../limits.js';
import type { PyValue } from '../py-types.js';

/** The MARK opcode's stack marker. */
export const MARK = Symbol('mark');

/** One entry of the unpickler's stack: a value or a MARK. */
export type StackItem = PyValue | typeof MARK;

/** The machine state one opcode handler reads and changes. */
export interface UnpicklerState {
  /** The pickle stream, positioned just after the opcode byte. */
  readonly r: ByteReader;
  /** What this file's values have cost so far, against its caps. */
  readonly budget: PickleBudget;
  /** The caps of this run (the budget's). */
  readonly limits: PickleLimits;
  /** The pickle machine's stack. */
  readonly stack: StackItem[];
  /** The memo (PUT/GET). */
  readonly memo: Map<number, PyValue>;
  /** Pop a value; a MARK or an empty stack is a corrupt pickle. */
  pop(): PyValue;
  /** The value on top of the stack, left there. */
  top(): PyValue;
  /** Pop the items above the topmost MARK, and the MARK. */
  popMark(): PyValue[];
  /** Items popped to MARK, charged as container slots of a `what`. */
  popMarkCharged(what: string): PyValue[];
  /** `n` bytes of a string/bytes opcode, charged to the budget before anything is copied or decoded. */
  bytesOf(n: number, what: string): Uint8Array;
  /** Store a memo entry (capped in number, charged to the budget). */
  memoSet(i: number, v: PyValue): void;
  /** A memo entry; a missing one is a corrupt pickle. */
  memoGet(i: number): PyValue;
  /** STOP: end this run with `result`. */
  stop(result: PyValue): void;
  /** Unpickle a nested pickle from the same stream, budget and opcode count (joblib object arrays). */
  loadNested(): PyValue;
}

/** Executes one opcode whose byte has just been read. */
export type OpHandler = (u: UnpicklerState) => void;

/** Handlers of one family of opcodes: (opcode byte, handler) pairs. */
export type OpFamily = readonly (readonly [number, OpHandler])[];
