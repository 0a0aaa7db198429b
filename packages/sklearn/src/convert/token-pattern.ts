/**
 * A scikit-learn `token_pattern` (a Python `re` pattern, applied with `findall`) as an equivalent JavaScript RegExp
 * source, for the plain subset both engines read alike: literals, `.`, classes, `\w \d \s \b` (and negations) with
 * Python's Unicode meanings, groups, alternation and quantifiers. Anything else is refused with the reason:
 * anchors, lookarounds, backreferences, inline flags other than `(?u)`, more than one capturing group (scikit-learn
 * raises), a pattern matching the empty string, and nested repetition such as `(\w+)+` (it could backtrack
 * exponentially on a request's document).
 */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import { PYTHON_WHITESPACE } from './char-ngrams.js';

/** Python's `\w` on str patterns: letters, numbers (str.isalnum) and `_`. */
const WORD = '\\p{L}\\p{N}_';
/** Python's `\d` on str patterns: decimal digits. */
const DIGIT = '\\p{Nd}';

/** One translated pattern: the JavaScript source (flags 'gu') and whether findall returns group 1. */
export interface TokenPattern {
  source: string;
  group: boolean;
}

const lit = (ch: string): string => (/^[\p{L}\p{N}_ ]$/u.test(ch) ? ch : `\\u{${ch.codePointAt(0)!.toString(16)}}`);

/** Translate `pattern` or throw UnsupportedEstimatorError saying why. */
export function translateTokenPattern(est: string, pattern: string): TokenPattern {
  const refuse = (why: string): never => {
    throw new UnsupportedEstimatorError(
      `${est} with token_pattern=${JSON.stringify(pattern)} is not supported: ${why}`,
    );
  };
  const chars = Array.from(pattern.startsWith('(?u)') ? pattern.slice(4) : pattern);
  let out = '';
  let groups = 0;
  // per open group: whether a quantifier occurs inside it
  const open: boolean[] = [];
  let lastAtomQuantified = false; // the atom just closed (a group) holds a quantifier
  const translateEscape = (c: string, inClass: boolean): string => {
    switch (c) {
      case 'w':
        return inClass ? WORD : `[${WORD}]`;
      case 'd':
        return inClass ? DIGIT : `[${DIGIT}]`;
      case 's':
        return inClass ? PYTHON_WHITESPACE : `[${PYTHON_WHITESPACE}]`;
      case 'W':
      case 'D':
      case 'S': {
        if (inClass) return refuse(`\\${c} inside a character class`);
        const set = c === 'W' ? WORD : c === 'D' ? DIGIT : PYTHON_WHITESPACE;
        return `[^${set}]`;
      }
      case 'b':
      case 'B': {
        if (inClass) return refuse('\\b inside a character class');
        const boundary = `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`;
        const inside = `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`;
        return c === 'b' ? boundary : inside;
      }
      case 'n':
        return '\\n';
      case 't':
        return '\\t';
      case 'r':
        return '\\r';
      case 'f':
        return '\\f';
      case 'v':
        return '\\v';
      default:
        if (/^[\p{L}\p{N}]$/u.test(c)) return refuse(`the escape \\${c}`);
        return lit(c);
    }
  };
  let i = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '\\') {
      const next = chars[i + 1];
      if (next === undefined) refuse('a trailing backslash');
      out += translateEscape(next!, false);
      i += 2;
      lastAtomQuantified = false;
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      let body = '';
      if (chars[j] === '^') {
        body += '^';
        j++;
      }
      let first = true;
      for (;;) {
        const d = chars[j];
        if (d === undefined) return refuse('an unterminated character class');
        if (d === ']' && !first) break;
        if (d === '\\') {
          const next = chars[j + 1];
          if (next === undefined) return refuse('a trailing backslash');
          body += translateEscape(next, true);
          j += 2;
        } else if (d === '-' && !first && chars[j + 1] !== ']') {
          body += '-';
          j++;
        } else {
          if (d === '[' && chars[j + 1] === ':') refuse('a POSIX class');
          body += lit(d);
          j++;
        }
        first = false;
      }
      out += `[${body}]`;
      i = j + 1;
      lastAtomQuantified = false;
      continue;
    }
    if (c === '(') {
      if (chars[i + 1] === '?') {
        if (chars[i + 2] !== ':') refuse('lookarounds, named groups and inline flags are not translated');
        out += '(?:';
        i += 3;
      } else {
        groups++;
        out += '(';
        i++;
      }
      open.push(false);
      lastAtomQuantified = false;
      continue;
    }
    if (c === ')') {
      if (open.length === 0) refuse('an unbalanced parenthesis');
      lastAtomQuantified = open.pop()!;
      if (lastAtomQuantified && open.length > 0) open[open.length - 1] = true;
      out += ')';
      i++;
      continue;
    }
    const brace = c === '{' ? /^\{(\d*)(,(\d*))?\}/.exec(chars.slice(i).join('')) : null;
    if (c === '*' || c === '+' || c === '?' || (brace && (brace[1] !== '' || brace[2] !== undefined))) {
      // an optional group ('?', {0,1}) runs once at most; a group repeated more often must not repeat inside
      const most = !brace
        ? c === '?'
          ? 1
          : Number.POSITIVE_INFINITY
        : brace[2] === undefined
          ? Number(brace[1])
          : brace[3] === ''
            ? Number.POSITIVE_INFINITY
            : Number(brace[3]);
      if (lastAtomQuantified && most > 1)
        refuse('nested repetition (a repeated group that repeats inside) can backtrack exponentially');
      if (open.length > 0) open[open.length - 1] = true;
      if (brace) {
        out += `{${brace[1] === '' ? '0' : brace[1]}${brace[2] ?? ''}}`;
        i += brace[0].length;
      } else {
        out += c;
        i++;
      }
      if (chars[i] === '?') {
        out += '?';
        i++;
      } else if (chars[i] === '+') refuse('possessive quantifiers');
      lastAtomQuantified = false;
      continue;
    }
    if (c === '^' || c === '$') refuse('anchors');
    lastAtomQuantified = false;
    out += c === '.' ? '[^\\n]' : c === '|' ? '|' : lit(c);
    i++;
  }
  if (open.length > 0) refuse('an unbalanced parenthesis');
  if (groups > 1) refuse('more than one capturing group (scikit-learn raises)');
  let re: RegExp;
  try {
    re = new RegExp(out, 'gu');
  } catch {
    return refuse('it does not translate to an equivalent JavaScript pattern');
  }
  // findall's and matchAll's ways past an empty match differ: refuse patterns that can match nothing
  for (const sample of ['', 'ab 12_ .x-Y\n']) {
    for (const m of sample.matchAll(re)) if (m[0] === '') refuse('it matches the empty string');
  }
  return { source: out, group: groups === 1 };
}
