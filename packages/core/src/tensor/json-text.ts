import { InvalidInput } from '../errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** The error for JSON nested deeper than `maxDepth` (400 naming the flag). */
export function tooDeep(maxDepth: number): InvalidInput {
  return new InvalidInput(
    `JSON body nests arrays/objects deeper than the limit of ${maxDepth} levels (--max_json_depth).`,
  );
}

/**
 * Throw InvalidInput when the JSON text in `bytes` nests arrays/objects deeper than `maxDepth`. One pass over the
 * bytes, no recursion, strings skipped: run it before `JSON.parse`, which recurses once per level.
 */
export function checkJsonDepth(bytes: Uint8Array, maxDepth: number, start = 0, end = bytes.length): void {
  let depth = 0;
  let i = start;
  while (i < end) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      // Skip the string: stop at the next quote that is not escaped.
      i++;
      while (i < end) {
        const s = bytes[i]!;
        if (s === BACKSLASH) i += 2;
        else if (s === QUOTE) break;
        else i++;
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) throw tooDeep(maxDepth);
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
    i++;
  }
}

/**
 * Parse UTF-8 JSON text after checking its nesting depth (InvalidInput beyond `maxDepth`); syntax errors become
 * InvalidInput too.
 */
export function parseJsonChecked(bytes: Uint8Array, maxDepth: number): unknown {
  checkJsonDepth(bytes, maxDepth);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInput(`Malformed JSON body: ${(err as Error).message}`);
  }
}

/**
 * `JSON.stringify` that also writes bigints, as their exact digits (64-bit integers beyond 2^53). Values without
 * a bigint take the native path; only a value holding one is walked here.
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError) || !/BigInt/i.test(err.message)) throw err;
  }
  return writeWithBigInts(value);
}

/** JSON text of a value that holds bigints somewhere (model output: plain objects, arrays, primitives). */
function writeWithBigInts(root: unknown): string {
  const parts: string[] = [];
  // Work items: a value to write, or a literal piece of text (separators, closing brackets).
  const stack: Array<{ value: unknown } | string> = [{ value: root }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      parts.push(item);
      continue;
    }
    const v = toJsonValue(item.value);
    if (typeof v === 'bigint') parts.push(v.toString());
    else if (Array.isArray(v)) {
      parts.push('[');
      stack.push(']');
      for (let i = v.length - 1; i >= 0; i--) {
        const el = v[i] === undefined || typeof v[i] === 'function' || typeof v[i] === 'symbol' ? null : v[i];
        stack.push({ value: el });
        if (i > 0) stack.push(',');
      }
    } else if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) {
      const entries = Object.entries(v).filter(
        ([, x]) => x !== undefined && typeof x !== 'function' && typeof x !== 'symbol',
      );
      parts.push('{');
      stack.push('}');
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i]!;
        stack.push({ value: x });
        stack.push(`${i > 0 ? ',' : ''}${JSON.stringify(k)}:`);
      }
    } else {
      parts.push(JSON.stringify(v) ?? 'null');
    }
  }
  return parts.join('');
}

/** A value as JSON.stringify sees it (toJSON applied). */
function toJsonValue(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    return (v as { toJSON: () => unknown }).toJSON();
  }
  return v;
}
