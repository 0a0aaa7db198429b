/** Opcodes that push str and bytes (binary and protocol-0 text forms), and the protocol 5 buffer opcodes. */
import { PickleFormatError } from '../errors.js';
import { OP } from './codes.js';
import type { OpFamily, UnpicklerState } from './state.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new PickleFormatError('corrupt pickle: a unicode string is not valid UTF-8');
  }
}

function latin1Text(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 10,
  r: 13,
  t: 9,
  '\\': 92,
  "'": 39,
  '"': 34,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
};

/** The bytes of a quoted, backslash-escaped protocol 0 STRING literal. */
function unquote(s: string): Uint8Array {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q)
    throw new PickleFormatError('corrupt pickle: bad STRING literal');
  const body = s.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out.push(c.charCodeAt(0) & 0xff);
      continue;
    }
    const n = body[++i];
    if (n !== undefined && SIMPLE_ESCAPES[n] !== undefined) out.push(SIMPLE_ESCAPES[n]!);
    else if (n === 'x') {
      out.push(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n !== undefined && /[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out.push(Number.parseInt(m, 8) & 0xff);
      i += m.length - 1;
    } else throw new PickleFormatError('corrupt pickle: bad escape in STRING literal');
  }
  return Uint8Array.from(out);
}

function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) =>
    String.fromCodePoint(Number.parseInt((a ?? b)!, 16)),
  );
}

/** A protocol 0 text line, charged to the budget as a string of its length. */
function chargedLine(u: UnpicklerState): string {
  const line = u.r.line();
  u.budget.charge(line.length, `a ${line.length}-byte string`);
  return line;
}

function binUnicode(u: UnpicklerState): void {
  u.stack.push(decodeUtf8(u.bytesOf(u.r.u32(), 'string')));
}

function shortBinUnicode(u: UnpicklerState): void {
  u.stack.push(decodeUtf8(u.bytesOf(u.r.u8('length'), 'string')));
}

function binUnicode8(u: UnpicklerState): void {
  u.stack.push(decodeUtf8(u.bytesOf(u.r.u64(), 'string')));
}

/** UNICODE: raw-unicode-escape text. */
function unicodeText(u: UnpicklerState): void {
  u.stack.push(rawUnicodeEscape(chargedLine(u)));
}

function binBytes(u: UnpicklerState): void {
  u.stack.push(u.bytesOf(u.r.u32(), 'bytes').slice());
}

function shortBinBytes(u: UnpicklerState): void {
  u.stack.push(u.bytesOf(u.r.u8('length'), 'bytes').slice());
}

/** BINBYTES8 and BYTEARRAY8. */
function binBytes8(u: UnpicklerState): void {
  u.stack.push(u.bytesOf(u.r.u64(), 'bytes').slice());
}

/** STRING (protocol 0, Python 2 str): latin-1. */
function stringText(u: UnpicklerState): void {
  u.stack.push(latin1Text(unquote(chargedLine(u))));
}

function binString(u: UnpicklerState): void {
  const n = u.r.i32();
  if (n < 0) throw new PickleFormatError('corrupt pickle: negative BINSTRING length');
  u.stack.push(latin1Text(u.bytesOf(n, 'string')));
}

function shortBinString(u: UnpicklerState): void {
  u.stack.push(latin1Text(u.bytesOf(u.r.u8('length'), 'string')));
}

function nextBuffer(): void {
  throw new PickleFormatError('pickle uses out-of-band buffers (protocol 5 NEXT_BUFFER), which a file cannot carry');
}

function readonlyBuffer(): void {}

/**
 * BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, UNICODE, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8, STRING,
 * BINSTRING, SHORT_BINSTRING, NEXT_BUFFER (refused), READONLY_BUFFER.
 */
export const STRING_OPS: OpFamily = [
  [OP.BINUNICODE, binUnicode],
  [OP.SHORT_BINUNICODE, shortBinUnicode],
  [OP.BINUNICODE8, binUnicode8],
  [OP.UNICODE, unicodeText],
  [OP.BINBYTES, binBytes],
  [OP.SHORT_BINBYTES, shortBinBytes],
  [OP.BINBYTES8, binBytes8],
  [OP.BYTEARRAY8, binBytes8],
  [OP.STRING, stringText],
  [OP.BINSTRING, binString],
  [OP.SHORT_BINSTRING, shortBinString],
  [OP.NEXT_BUFFER, nextBuffer],
  [OP.READONLY_BUFFER, readonlyBuffer],
];
