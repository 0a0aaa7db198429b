/**
 * scikit-learn's character analyzers, `analyzer='char'` and `'char_wb'` (`_char_ngrams`, `_char_wb_ngrams`): runs of
 * two or more whitespace characters become one space, then n-grams of code points (Python's characters), n from
 * ngram_range — all 1-grams first, then 2-grams, … as scikit-learn lists them.
 */

/** The characters Python's `str.isspace()` and the regex `\s` accept (29 code points). */
export const PYTHON_WHITESPACE =
  '\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const WHITE_SPACES = new RegExp(`[${PYTHON_WHITESPACE}]{2,}`, 'gu');
const WORD_SPLIT = new RegExp(`[^${PYTHON_WHITESPACE}]+`, 'gu');

/** `_char_ngrams`: n-grams of the whole (whitespace-normalized) text. */
export function charNgrams(text: string, minN: number, maxN: number): string[] {
  const chars = Array.from(text.replace(WHITE_SPACES, ' '));
  const len = chars.length;
  const out: string[] = [];
  let from = minN;
  if (minN === 1) {
    // scikit-learn lists the characters themselves first (no slicing)
    out.push(...chars);
    from = 2;
  }
  for (let n = from; n <= Math.min(maxN, len); n++) {
    for (let i = 0; i + n <= len; i++) out.push(chars.slice(i, i + n).join(''));
  }
  return out;
}

/** `_char_wb_ngrams`: n-grams inside each word padded with one space on each side; a short word counts once. */
export function charWbNgrams(text: string, minN: number, maxN: number): string[] {
  const out: string[] = [];
  for (const word of text.replace(WHITE_SPACES, ' ').match(WORD_SPLIT) ?? []) {
    const w = [' ', ...Array.from(word), ' '];
    for (let n = minN; n <= maxN; n++) {
      let offset = 0;
      out.push(w.slice(offset, offset + n).join(''));
      while (offset + n < w.length) {
        offset += 1;
        out.push(w.slice(offset, offset + n).join(''));
      }
      if (offset === 0) break;
    }
  }
  return out;
}
