/** Opcodes that push constants and numbers: None, booleans, ints of every width and text form, floats. */
import { PickleFormatError } from '../errors.js';
import { PickleLimitError, type PickleLimits } from '../limits.js';
import { OP } from './codes.js';
import type { OpFamily, UnpicklerState } from './state.js';

/** A little-endian two's complement integer (LONG1/LONG4), in time linear in its length. */
export function longFromBytes(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  // Big-endian hex of the bytes, parsed once: BigInt('0x…') is linear, unlike a shift-or per byte.
  let v = BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function checkLongLength(bytes: number, limits: PickleLimits): void {
  if (bytes > limits.maxLongBytes) {
    throw new PickleLimitError(
      `refusing to load pickle: it holds a ${bytes}-byte integer, over the ${limits.maxLongBytes}-byte cap for one int (no model needs such a number)`,
    );
  }
}

function parseIntText(s: string, limits: PickleLimits): number | bigint | boolean {
  // ~2.41 decimal digits per byte; sign, 'L' and spaces aside.
  checkLongLength(Math.floor((s.length - 2) / 2.41), limits);
  const t = s.trim().replace(/L$/, '');
  if (t === '00') return false;
  if (t === '01') return true;
  if (!/^[-+]?\d+$/.test(t)) throw new PickleFormatError(`corrupt pickle: bad integer literal '${s}'`);
  const b = BigInt(t);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

function none(u: UnpicklerState): void {
  u.stack.push(null);
}

function newTrue(u: UnpicklerState): void {
  u.stack.push(true);
}

function newFalse(u: UnpicklerState): void {
  u.stack.push(false);
}

function binInt1(u: UnpicklerState): void {
  u.stack.push(u.r.u8('int'));
}

function binInt2(u: UnpicklerState): void {
  u.stack.push(u.r.u16());
}

function binInt(u: UnpicklerState): void {
  u.stack.push(u.r.i32());
}

/** LONG1/LONG4 after their length: the length capped before the bytes are read. */
function pushLong(u: UnpicklerState, n: number): void {
  if (n < 0) throw new PickleFormatError('corrupt pickle: negative LONG4 length');
  checkLongLength(n, u.limits);
  u.stack.push(longFromBytes(u.r.read(n, 'long')));
}

function long1(u: UnpicklerState): void {
  pushLong(u, u.r.u8('length'));
}

function long4(u: UnpicklerState): void {
  pushLong(u, u.r.i32());
}

/** INT and LONG (text, protocol 0); INT 00/01 are False/True. */
function intText(u: UnpicklerState): void {
  u.stack.push(parseIntText(u.r.line(), u.limits));
}

function floatText(u: UnpicklerState): void {
  u.stack.push(Number.parseFloat(u.r.line()));
}

function binFloat(u: UnpicklerState): void {
  u.stack.push(u.r.f64be());
}

/** NONE, NEWTRUE, NEWFALSE, BININT1/2, BININT, LONG1, LONG4, INT, LONG, FLOAT, BINFLOAT. */
export const NUMBER_OPS: OpFamily = [
  [OP.NONE, none],
  [OP.NEWTRUE, newTrue],
  [OP.NEWFALSE, newFalse],
  [OP.BININT1, binInt1],
  [OP.BININT2, binInt2],
  [OP.BININT, binInt],
  [OP.LONG1, long1],
  [OP.LONG4, long4],
  [OP.INT, intText],
  [OP.LONG, intText],
  [OP.FLOAT, floatText],
  [OP.BINFLOAT, binFloat],
];
