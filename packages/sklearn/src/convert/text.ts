/**
 * CountVectorizer / TfidfVectorizer / HashingVectorizer front ends (word analyzer with the default or a translated
 * token pattern, or character n-grams) run in TypeScript like DictVectorizer — onnxruntime has no regex tokenizer in its default build — and TfidfTransformer
 * (and HashingVectorizer's norm) in the graph.
 */
import { checkDecodedBytes, DEFAULT_REQUEST_LIMITS, InvalidInput } from '@servekit/core';
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isPyDict, isPyObject } from '../pickle/py-types.js';
import { charNgrams, charWbNgrams } from './char-ngrams.js';
import type { ConvertContext, Var } from './context.js';
import { hashedColumn } from './murmurhash3.js';
import { normalizer } from './preprocessing.js';
import { arr, bool, get, num, str, toF64 } from './state.js';
import { type TokenPattern, translateTokenPattern } from './token-pattern.js';

/** scikit-learn's default token_pattern. */
const DEFAULT_TOKEN_PATTERN = '(?u)\\b\\w\\w+\\b';

/** Python's \w (str.isalnum() or '_') as a run; runs of two or more are tokens, as \b\w\w+\b finds them. */
const WORD_RUN = /[\p{L}\p{N}_]+/gu;

/** What the fitted analyzer needs: vocabulary and the analyzer options. */
export interface TextVectorizerSpec {
  vocabulary: Map<string, number>;
  /** 'word' (tokens, then word n-grams), 'char' or 'char_wb' (character n-grams, char-ngrams.ts). */
  analyzer: 'word' | 'char' | 'char_wb';
  /** A non-default token_pattern, translated (token-pattern.ts); absent: the default pattern. */
  tokenPattern?: TokenPattern;
  lowercase: boolean;
  ngramRange: [number, number];
  stopWords?: Set<string>;
  binary: boolean;
  /** HashingVectorizer: terms go to column |murmurhash3(term)| mod nFeatures (vocabulary is empty). */
  hashing?: { nFeatures: number; alternateSign: boolean };
}

function describeCallable(v: unknown): string {
  if (typeof v === 'object' && v !== null && 'module' in v && 'name' in v) {
    const g = v as { module: string; name: string };
    return `${g.module}.${g.name}`;
  }
  return String(v);
}

/** The analyzer options of a CountVectorizer / TfidfVectorizer / HashingVectorizer; refuses what TypeScript cannot mirror. */
function analyzerOptions(est: PyObject): Omit<TextVectorizerSpec, 'vocabulary' | 'hashing'> {
  const refuse = (what: string): never => {
    throw new UnsupportedEstimatorError(
      `${est.name} with ${what} is not supported (analyzers word, char, char_wb; no callables)`,
    );
  };
  const analyzerRaw = get(est, 'analyzer') ?? 'word';
  if (analyzerRaw !== 'word' && analyzerRaw !== 'char' && analyzerRaw !== 'char_wb')
    refuse(`analyzer=${typeof analyzerRaw === 'string' ? `'${analyzerRaw}'` : describeCallable(analyzerRaw)}`);
  const analyzer = analyzerRaw as TextVectorizerSpec['analyzer'];
  for (const key of ['tokenizer', 'preprocessor']) {
    const v = get(est, key);
    if (v !== null && v !== undefined) refuse(`${key}=${describeCallable(v)}`);
  }
  const words = analyzer === 'word';
  const pattern = get(est, 'token_pattern');
  let tokenPattern: TokenPattern | undefined;
  // the character analyzers ignore token_pattern and stop_words, as scikit-learn does
  if (words && pattern !== undefined && pattern !== null && pattern !== DEFAULT_TOKEN_PATTERN) {
    if (typeof pattern !== 'string') refuse('a token_pattern that is not a string');
    tokenPattern = translateTokenPattern(est.name, pattern as string);
  }
  const accents = get(est, 'strip_accents');
  if (accents !== null && accents !== undefined) refuse(`strip_accents='${String(accents)}'`);
  const input = get(est, 'input');
  if (input !== undefined && input !== 'content') refuse(`input='${String(input)}'`);
  const range = get(est, 'ngram_range');
  const ngramRange: [number, number] = Array.isArray(range) ? [Number(range[0]), Number(range[1])] : [1, 1];
  const [minN, maxN] = ngramRange;
  if (!(Number.isInteger(minN) && Number.isInteger(maxN) && minN >= 1 && maxN >= minN))
    refuse(`ngram_range=(${minN}, ${maxN})`);
  const sw = words ? get(est, 'stop_words') : undefined;
  let stopWords: Set<string> | undefined;
  if (Array.isArray(sw)) stopWords = new Set(sw.map(String));
  // a vocabulary already lacks the built-in list's words (unigrams); hashing has no vocabulary to lean on
  else if (typeof sw === 'string' && (ngramRange[1] > 1 || est.name === 'HashingVectorizer'))
    refuse(`stop_words='${sw}'${est.name === 'HashingVectorizer' ? '' : ' and n-grams'}`);
  return {
    analyzer,
    ...(tokenPattern ? { tokenPattern } : {}),
    lowercase: bool(est, 'lowercase', true),
    ngramRange,
    ...(stopWords ? { stopWords } : {}),
    binary: bool(est, 'binary', false),
  };
}

/** Read and check a fitted CountVectorizer / TfidfVectorizer; refuses what the TypeScript analyzer cannot mirror. */
export function textVectorizerSpec(est: PyObject): TextVectorizerSpec {
  const options = analyzerOptions(est);
  const vocabRaw = get(est, 'vocabulary_');
  if (!isPyDict(vocabRaw)) throw new UnsupportedEstimatorError(`${est.name}.vocabulary_ is missing (is it fitted?)`);
  const vocabulary = new Map<string, number>();
  for (const [k, v] of vocabRaw) vocabulary.set(String(k), Number(v));
  return { vocabulary, ...options };
}

/** Read and check a HashingVectorizer (float64 output; n_features columns, alternate_sign, binary). */
export function hashingVectorizerSpec(est: PyObject): TextVectorizerSpec {
  const options = analyzerOptions(est);
  const nFeatures = num(est, 'n_features', 2 ** 20);
  if (!(Number.isInteger(nFeatures) && nFeatures >= 1))
    throw new UnsupportedEstimatorError(`HashingVectorizer n_features=${nFeatures} is not a positive integer`);
  requireFloat64Output(est, 'HashingVectorizer');
  return {
    vocabulary: new Map(),
    ...options,
    hashing: { nFeatures, alternateSign: bool(est, 'alternate_sign', true) },
  };
}

/** HashingVectorizer's row normalization in the graph (norm None, 'l1' or 'l2'). */
export function hashingNorm(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const norm = get(est, 'norm');
  if (norm === null) return x;
  const name = str(est, 'norm', 'l2');
  if (name !== 'l1' && name !== 'l2')
    throw new UnsupportedEstimatorError(`HashingVectorizer norm='${name}' is not supported`);
  return normalizer(ctx, est, x);
}

/** Turns documents into the count matrix CountVectorizer.transform gives (dense float64). */
export class TextVectorizer {
  private readonly pattern?: RegExp;

  constructor(readonly spec: TextVectorizerSpec) {
    if (spec.tokenPattern) this.pattern = new RegExp(spec.tokenPattern.source, 'gu');
  }

  /** Number of output columns. */
  get width(): number {
    return this.spec.hashing?.nFeatures ?? this.spec.vocabulary.size;
  }

  /** Terms of one document: character n-grams, or word tokens and n-grams as sklearn's _word_ngrams. */
  analyze(doc: string): string[] {
    const text = this.spec.lowercase ? doc.toLowerCase() : doc;
    const [minN, maxN] = this.spec.ngramRange;
    if (this.spec.analyzer === 'char') return charNgrams(text, minN, maxN);
    if (this.spec.analyzer === 'char_wb') return charWbNgrams(text, minN, maxN);
    let tokens = this.tokens(text);
    if (this.spec.stopWords) tokens = tokens.filter((t) => !this.spec.stopWords!.has(t));
    if (maxN === 1) return tokens;
    const out = minN === 1 ? [...tokens] : [];
    for (let n = Math.max(minN, 2); n <= Math.min(maxN, tokens.length); n++) {
      for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join(' '));
    }
    return out;
  }

  /** Tokens as the token_pattern's findall gives them. */
  private tokens(text: string): string[] {
    if (!this.pattern) return (text.match(WORD_RUN) ?? []).filter((t) => [...t].length >= 2);
    const group = this.spec.tokenPattern!.group;
    return Array.from(text.matchAll(this.pattern), (m) => (group ? (m[1] ?? '') : m[0]));
  }

  /** Documents (strings, or one-element rows) → float64 [rows, width]. */
  vectorize(rows: readonly unknown[]): Float64Array {
    const width = this.width;
    // a dense row per document: bounded like any decoded tensor (n_features is 2^20 by default for hashing)
    checkDecodedBytes(rows.length * width * 8, DEFAULT_REQUEST_LIMITS, `${rows.length} documents × ${width} columns`);
    const out = new Float64Array(rows.length * width);
    const hashing = this.spec.hashing;
    rows.forEach((row, r) => {
      const doc = Array.isArray(row) && row.length === 1 ? row[0] : row;
      if (typeof doc !== 'string') throw new InvalidInput(`instance ${r} must be a text document (a string)`);
      if (hashing) {
        for (const term of this.analyze(doc)) {
          const { column, sign } = hashedColumn(term, hashing.nFeatures);
          if (this.spec.binary) out[r * width + column] = 1;
          else out[r * width + column]! += hashing.alternateSign ? sign : 1;
        }
        return;
      }
      for (const term of this.analyze(doc)) {
        const j = this.spec.vocabulary.get(term);
        if (j === undefined) continue;
        if (this.spec.binary) out[r * width + j] = 1;
        else out[r * width + j]! += 1;
      }
    });
    return out;
  }
}

/** idf_ of a TfidfTransformer: the idf_ array (sklearn ≥ 1.3) or the diagonal of _idf_diag (a scipy csr_matrix). */
function idf(est: PyObject): Float64Array {
  if (get(est, 'idf_') !== undefined) return toF64(arr(est, 'idf_'));
  const diag = get(est, '_idf_diag');
  if (!isPyObject(diag)) throw new UnsupportedEstimatorError('TfidfTransformer has no idf (is it fitted?)');
  const data = toF64(arr(diag, 'data'));
  const indices = toF64(arr(diag, 'indices'));
  const shape = get(diag, '_shape');
  const n = Array.isArray(shape) ? Number(shape[1]) : num(diag, 'n');
  const out = new Float64Array(n);
  indices.forEach((j, k) => {
    out[j]! += data[k]!;
  });
  return out;
}

/** TfidfTransformer: sublinear tf (log(x) + 1 on nonzeros), × idf, then row normalization. */
export function tfidfTransformer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  let y = ctx.cast(x, 'DOUBLE');
  if (bool(est, 'sublinear_tf', false)) {
    const pos = ctx.op('Greater', [y.name, ctx.constD([0], [])]);
    const safe = ctx.op('Where', [pos, y.name, ctx.constD([1], [])]);
    const logged = ctx.op('Add', [ctx.op('Log', [safe]), ctx.constD([1], [])]);
    y = { name: ctx.op('Where', [pos, logged, y.name]), type: 'DOUBLE', cols: y.cols };
  }
  if (bool(est, 'use_idf', true)) {
    const w = idf(est);
    if (w.length !== y.cols)
      throw new UnsupportedEstimatorError(`TfidfTransformer expects ${w.length} features but its input has ${y.cols}`);
    y = { name: ctx.op('Mul', [y.name, ctx.constD(w, [1, w.length])]), type: 'DOUBLE', cols: y.cols };
  }
  const norm = get(est, 'norm');
  if (norm === null) return y;
  return normalizer(ctx, est, y);
}

/** Refuse a hashing estimator (HashingVectorizer, FeatureHasher) whose output `dtype` is not float64. */
export function requireFloat64Output(est: PyObject, cls: string): void {
  const dtype = get(est, 'dtype');
  const dtypeName =
    typeof dtype === 'object' && dtype !== null && 'name' in dtype && typeof dtype.name === 'string'
      ? dtype.name
      : dtype === undefined || dtype === null
        ? 'float64'
        : String(dtype);
  if (dtypeName !== 'float64')
    throw new UnsupportedEstimatorError(`${cls} with dtype=${dtypeName} is not supported (float64 only)`);
}
