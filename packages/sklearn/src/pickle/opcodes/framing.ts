/** Opcodes of the pickle machine itself: protocol, frames, STOP, and the stack ops (MARK, POP, DUP). */
import { PickleFormatError } from '../errors.js';
import { OP } from './codes.js';
import { MARK, type OpFamily, type UnpicklerState } from './state.js';

function proto(u: UnpicklerState): void {
  const version = u.r.u8('protocol');
  if (version > 5) throw new PickleFormatError(`unsupported pickle protocol ${version}`);
}

/** Frames are contiguous in the stream; the length is only checked against what is left. */
function frame(u: UnpicklerState): void {
  const len = u.r.u64();
  if (len > u.r.remaining) u.r.read(len, 'frame');
}

function stop(u: UnpicklerState): void {
  u.stop(u.pop());
}

function mark(u: UnpicklerState): void {
  u.stack.push(MARK);
}

function pop(u: UnpicklerState): void {
  if (u.stack.length === 0) throw new PickleFormatError('corrupt pickle: stack underflow');
  u.stack.pop();
}

function popMark(u: UnpicklerState): void {
  u.popMark();
}

function dup(u: UnpicklerState): void {
  u.stack.push(u.top());
}

/** PROTO, FRAME, STOP, MARK, POP, POP_MARK, DUP. */
export const FRAMING_OPS: OpFamily = [
  [OP.PROTO, proto],
  [OP.FRAME, frame],
  [OP.STOP, stop],
  [OP.MARK, mark],
  [OP.POP, pop],
  [OP.POP_MARK, popMark],
  [OP.DUP, dup],
];
