import { randomBytes } from 'node:crypto';
import { InvalidInput } from '../errors.js';
import { tooDeep } from './json-text.js';

/**
 * A V2 tensor's JSON `data` list of numbers, read straight from the body bytes into a Float64Array (no JS arrays,
 * no per-element objects). `text` keeps the span for 64-bit integers, which are re-read exactly from it.
 */
export interface NumericBlock {
  /** The values in row-major order (`count` of them; the array may be longer). */
  values: Float64Array;
  /** Number of values. */
  count: number;
  /** True when some integer literal has more digits than a double holds exactly (re-read from `bytes`). */
  longIntegers: boolean;
  /** The body bytes and the span of the list in them. */
  bytes: Uint8Array;
  /** Start of the list (its `[`). */
  start: number;
  /** End of the list (after its `]`). */
  end: number;
}

/** A parsed V2 JSON body whose numeric `data` lists were taken out as {@link NumericBlock}s. */
export interface ParsedV2Body {
  /** The body, with each numeric `data` list replaced by a key of `blocks`. */
  body: unknown;
  /** The numeric lists by the placeholder string that replaced them (one shared empty map when there are none). */
  blocks: ReadonlyMap<string, NumericBlock>;
}

/** `blocks` of a body without numeric lists (a binary body's header): no map made per request. */
const NO_BLOCKS: ReadonlyMap<string, NumericBlock> = new Map();

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const DATA_KEY = [0x64, 0x61, 0x74, 0x61]; // data

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

const latin1 = new TextDecoder('latin1');

/**
 * First capacity of a list's Float64Array: 8 values (64 bytes, which V8 keeps on its heap; a larger typed array
 * gets a separately allocated backing store), doubled as the list grows. Most V2 JSON bodies carry a few values.
 */
const FIRST_CAPACITY = 8;

/**
 * Read a nested list of JSON numbers starting at `bytes[start] === '['`. Returns undefined when the list holds
 * anything else (strings, booleans, null, objects) or is not valid JSON: the caller leaves it to JSON.parse.
 * Nesting deeper than `maxDepth` lists is a 400.
 */
export function readNumericList(
  bytes: Uint8Array,
  start: number,
  maxDepth = Number.POSITIVE_INFINITY,
): NumericBlock | undefined {
  let values = new Float64Array(FIRST_CAPACITY);
  let count = 0;
  let longIntegers = false;
  let depth = 0;
  let i = start;
  const n = bytes.length;
  // After '[' or ',' a value is expected; after a value or ']' a ',' or ']' is.
  let expectValue = true;
  let empty = false;
  while (i < n) {
    const c = bytes[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === OPEN_BRACKET) {
      if (!expectValue) return undefined;
      if (++depth > maxDepth) throw tooDeep(maxDepth);
      i++;
      empty = true;
      continue;
    }
    if (c === CLOSE_BRACKET) {
      if (expectValue && !empty) return undefined; // "[1,]"
      depth--;
      i++;
      expectValue = false;
      empty = false;
      if (depth === 0) return { values, count, longIntegers, bytes, start, end: i };
      continue;
    }
    if (c === COMMA) {
      if (expectValue) return undefined;
      expectValue = true;
      empty = false;
      i++;
      continue;
    }
    if (!expectValue || !(c === MINUS || (c >= ZERO && c <= NINE))) return undefined;
    // A JSON number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
    const tokenStart = i;
    let negative = false;
    if (c === MINUS) {
      negative = true;
      i++;
    }
    const intStart = i;
    let mantissa = 0;
    let digits = 0;
    while (i < n && bytes[i]! >= ZERO && bytes[i]! <= NINE) {
      mantissa = mantissa * 10 + (bytes[i]! - ZERO);
      digits++;
      i++;
    }
    if (digits === 0 || (bytes[intStart] === ZERO && digits > 1)) return undefined;
    let fraction = 0;
    let exact = true;
    if (i < n && bytes[i] === DOT) {
      i++;
      const fracStart = i;
      while (i < n && bytes[i]! >= ZERO && bytes[i]! <= NINE) {
        mantissa = mantissa * 10 + (bytes[i]! - ZERO);
        digits++;
        i++;
      }
      fraction = i - fracStart;
      if (fraction === 0) return undefined;
    }
    if (i < n && (bytes[i] === LOWER_E || bytes[i] === UPPER_E)) {
      i++;
      if (i < n && (bytes[i] === PLUS || bytes[i] === MINUS)) i++;
      const expStart = i;
      while (i < n && bytes[i]! >= ZERO && bytes[i]! <= NINE) i++;
      if (i === expStart) return undefined;
      exact = false;
    }
    let value: number;
    // Clinger's fast path: an integer mantissa below 2^53 divided by an exact power of ten rounds correctly.
    if (exact && digits <= 15 && fraction <= 22) {
      value = fraction === 0 ? mantissa : mantissa / POWERS_OF_TEN[fraction]!;
      if (negative) value = -value;
    } else {
      value = Number(latin1.decode(bytes.subarray(tokenStart, i)));
      if (fraction === 0 && exact && digits > 15) longIntegers = true;
    }
    if (count === values.length) {
      const grown = new Float64Array(values.length * 2);
      grown.set(values);
      values = grown;
    }
    values[count++] = value;
    expectValue = false;
    empty = false;
  }
  return undefined;
}

/** Nonces drawn 512 at a time: one system call and one hex conversion per 512 parsed bodies instead of one each. */
const NONCES_PER_DRAW = 512;
let nonceHex = '';
let noncesUsed = NONCES_PER_DRAW;

/** A fresh random 16-hex-digit nonce (the placeholder keys of one parsed body). */
function nextNonce(): string {
  if (noncesUsed === NONCES_PER_DRAW) {
    nonceHex = randomBytes(8 * NONCES_PER_DRAW).toString('hex');
    noncesUsed = 0;
  }
  const at = 16 * noncesUsed++;
  return nonceHex.slice(at, at + 16);
}

/** The integer literals of a numeric block's span, exactly, as bigints (for INT64/UINT64). */
export function readBigIntegers(block: NumericBlock, fail: (text: string) => never): bigint[] {
  const text = latin1.decode(block.bytes.subarray(block.start, block.end));
  const tokens = text.match(/-?[0-9][0-9.eE+-]*/g) ?? [];
  return tokens.map((t) => (/^-?[0-9]+$/.test(t) ? BigInt(t) : fail(t)));
}

/** True when `bytes[i..]` is the string token `"data"`. */
function isDataKey(bytes: Uint8Array, i: number): boolean {
  if (bytes[i + 5] !== QUOTE) return false;
  for (let k = 0; k < 4; k++) if (bytes[i + 1 + k] !== DATA_KEY[k]) return false;
  return true;
}

/**
 * Parse a V2 JSON body (UTF-8 bytes) in one pass that checks the nesting against `maxDepth` (before JSON.parse
 * recurses) and reads every `"data"` list of numbers in a tensor object (`inputs[i].data`) straight into a
 * Float64Array; the rest goes to JSON.parse.
 */
export function parseV2JsonBody(bytes: Uint8Array, maxDepth: number): ParsedV2Body {
  // Made at the first numeric list: a body without one (a binary body's JSON header) allocates neither.
  let blocks: Map<string, NumericBlock> | undefined;
  let nonce = '';
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The text JSON.parse reads, built from the body's text between the lists and the placeholders (strings only: the
  // cuts are at ASCII brackets, so decoding the pieces apart equals decoding them together).
  let text = '';
  let copied = 0;
  let depth = 0;
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      const keyStart = i;
      i++;
      while (i < n && bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1;
      i++;
      // `"data": [` in an object three levels down (body → inputs → tensor).
      if (depth === 3 && i - keyStart === 6 && isDataKey(bytes, keyStart)) {
        let j = i;
        while (j < n && isSpace(bytes[j]!)) j++;
        if (bytes[j] !== COLON) continue;
        j++;
        while (j < n && isSpace(bytes[j]!)) j++;
        if (bytes[j] !== OPEN_BRACKET) continue;
        const block = readNumericList(bytes, j, maxDepth - depth);
        if (!block) continue;
        if (!blocks) {
          blocks = new Map();
          nonce = nextNonce();
        }
        const index = blocks.size;
        const key = `\u0000${nonce}:${index}`;
        blocks.set(key, block);
        // The key as a JSON string literal (its NUL written as the \u0000 escape).
        text += `${buf.toString('utf8', copied, j)}"\\u0000${nonce}:${index}"`;
        copied = block.end;
        i = block.end;
      }
      continue;
    }
    if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) throw tooDeep(maxDepth);
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
    i++;
  }
  text = copied === 0 ? buf.toString('utf8') : text + buf.toString('utf8', copied, n);
  try {
    return { body: JSON.parse(text), blocks: blocks ?? NO_BLOCKS };
  } catch (err) {
    throw new InvalidInput(`Malformed JSON body: ${(err as Error).message}`);
  }
}
