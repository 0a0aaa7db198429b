/** Memo opcodes: GET and PUT in text, 1-byte and 4-byte index forms, and MEMOIZE. */
import { OP } from './codes.js';
import type { OpFamily, UnpicklerState } from './state.js';

function get(u: UnpicklerState): void {
  u.stack.push(u.memoGet(Number(u.r.line())));
}

function binGet(u: UnpicklerState): void {
  u.stack.push(u.memoGet(u.r.u8('memo index')));
}

function longBinGet(u: UnpicklerState): void {
  u.stack.push(u.memoGet(u.r.u32()));
}

function put(u: UnpicklerState): void {
  u.memoSet(Number(u.r.line()), u.top());
}

function binPut(u: UnpicklerState): void {
  u.memoSet(u.r.u8('memo index'), u.top());
}

function longBinPut(u: UnpicklerState): void {
  u.memoSet(u.r.u32(), u.top());
}

function memoize(u: UnpicklerState): void {
  u.memoSet(u.memo.size, u.top());
}

/** GET, BINGET, LONG_BINGET, PUT, BINPUT, LONG_BINPUT, MEMOIZE. */
export const MEMO_OPS: OpFamily = [
  [OP.GET, get],
  [OP.BINGET, binGet],
  [OP.LONG_BINGET, longBinGet],
  [OP.PUT, put],
  [OP.BINPUT, binPut],
  [OP.LONG_BINPUT, longBinPut],
  [OP.MEMOIZE, memoize],
];
