import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertLightGBMText, loadLightGBMModel } from '../src/index.js';
import { expectClose, localFixture, runConverted } from './helpers.js';

/**
 * LightGBM is not packaged for Debian, so the categorical model here is hand-written (test/fixtures/
 * lightgbm-categorical/model.txt) and its expected outputs come from reference evaluators that share nothing with
 * the ONNX export: gen_lightgbm_categorical.py wrote expected.json, and `walk` below is a second, plain
 * TypeScript walker of the text format (LightGBM tree.h CategoricalDecision / NumericalDecision).
 */
interface Expected {
  inputs: (number | null)[][];
  raw_score: number[];
  predict: number[];
}

const DIR = localFixture('lightgbm-categorical');
const TEXT = readFileSync(`${DIR}/model.txt`, 'utf8');
const EXPECTED = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as Expected;
const ROWS = EXPECTED.inputs.map((r) => r.map((v) => (v === null ? Number.NaN : v)));

/** The trees of a LightGBM text model as key → numbers, one map per `Tree=` block. */
function treeBlocks(text: string): Map<string, number[]>[] {
  const trees: Map<string, number[]>[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('end of trees')) break;
    if (line.startsWith('Tree=')) trees.push(new Map());
    else if (trees.length > 0 && line.includes('=')) {
      const [k, v] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
      trees[trees.length - 1]!.set(k, v.trim().split(/\s+/).map(Number));
    }
  }
  return trees;
}

/** LightGBM's raw score for one row, walking the trees as tree.h does. */
function walk(trees: Map<string, number[]>[], x: number[]): number {
  let sum = 0;
  for (const t of trees) {
    const at = (k: string, i: number): number => t.get(k)![i]!;
    let node = at('num_leaves', 0) > 1 ? 0 : -1;
    while (node >= 0) {
      const dt = at('decision_type', node);
      let v = x[at('split_feature', node)]!;
      const [l, r] = [at('left_child', node), at('right_child', node)];
      if (dt & 1) {
        const c = Math.trunc(v);
        if (Number.isNaN(v) || c < 0) node = r;
        else {
          const k = at('threshold', node);
          const words = t.get('cat_threshold')!.slice(at('cat_boundaries', k), at('cat_boundaries', k + 1));
          const word = words[Math.floor(c / 32)];
          node = word !== undefined && (word >>> (c % 32)) & 1 ? l : r;
        }
        continue;
      }
      const missing = (dt >> 2) & 3;
      if (Number.isNaN(v) && missing !== 2) v = 0;
      if ((missing === 1 && Math.abs(v) <= 1e-35) || (missing === 2 && Number.isNaN(v))) node = dt & 2 ? l : r;
      else node = v <= at('threshold', node) ? l : r;
    }
    sum += t.get('leaf_value')![~node]!;
  }
  return sum;
}

describe('LightGBM categorical splits (cat_boundaries / cat_threshold bitsets)', () => {
  it('the two reference evaluators agree on every row', () => {
    const trees = treeBlocks(TEXT);
    expect(trees).toHaveLength(2);
    expectClose(
      ROWS.map((r) => walk(trees, r)),
      EXPECTED.raw_score,
      'TypeScript walker vs Python reference',
    );
    // The rows reach every leaf value combination the fixture was written for.
    expect(new Set(EXPECTED.raw_score.map((v) => v.toFixed(4))).size).toBeGreaterThanOrEqual(8);
  });

  it('equals the reference raw score and probability for codes in a set, in the second bitset word, unseen, negative, fractional and NaN', async () => {
    const m = await loadLightGBMModel(`${DIR}/model.txt`);
    expect(m.featureNames).toEqual(['amount', 'colour', 'size']);
    const out = await runConverted(m, ROWS);
    expectClose(out.margin, EXPECTED.raw_score, 'raw_score');
    expectClose(out.predict, EXPECTED.predict, 'predict');
  });

  it('refuses a split that names a category set the tree does not have', () => {
    const broken = TEXT.replace('threshold=0 0.5 1', 'threshold=0 0.5 7');
    expect(() => convertLightGBMText(broken, 'model.txt')).toThrow(
      'model.txt: cannot read LightGBM text model: Tree=0 node 2: category set 7 does not exist (num_cat=2)',
    );
  });

  it('refuses a tree whose cat_threshold is shorter than cat_boundaries says', () => {
    const broken = TEXT.replace('cat_threshold=10 258 5', 'cat_threshold=10 258');
    expect(() => convertLightGBMText(broken, 'model.txt')).toThrow('Tree=0: cat_threshold has 2 values, expected 3');
  });
});

describe("a real LightGBM model trained on a pandas categorical column (ankane/lightgbm-ruby's categorical.txt)", () => {
  const dir = localFixture('lightgbm-ruby-categorical');
  const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as {
    inputs: (number | string | null)[][];
    predict: number[];
  };

  it('reads the pandas_categorical names of column x3, whose code is the position in the list', async () => {
    const m = await loadLightGBMModel(`${dir}/model.txt`);
    expect(m.featureNames).toEqual(['x0', 'x1', 'x2', 'x3']);
    expect(m.categoricalColumns).toEqual([3]);
    expect(m.categoryNames).toEqual([undefined, undefined, undefined, Array.from({ length: 10 }, (_, i) => `cat${i}`)]);
  });

  it("equals the values the source's tests assert, with categories sent as codes", async () => {
    const m = await loadLightGBMModel(`${dir}/model.txt`);
    const codes = expected.inputs.map((r) =>
      r.map((v) =>
        typeof v === 'string'
          ? m.categoryNames![3]!.indexOf(v) >= 0
            ? m.categoryNames![3]!.indexOf(v)
            : Number.NaN
          : (v ?? Number.NaN),
      ),
    );
    expect(codes[3]![3]).toBeNaN(); // "cat10" is unseen: pandas makes it missing
    const out = await runConverted(m, codes);
    expectClose(out.predict, expected.predict, 'lightgbm-ruby categorical predict');
  });
});
