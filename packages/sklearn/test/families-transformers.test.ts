import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { murmurhash3 } from '../src/convert/murmurhash3.js';
import { ndtri } from '../src/convert/ndtri.js';
import { type ConvertedSklearnModel, loadSklearnModel } from '../src/index.js';
import type { GraphFeed } from '../src/request-encoding.js';
import { expectClose, localFixture, readJson } from './helpers.js';

interface Case {
  name: string;
  file: string;
  input_kind: 'matrix' | 'labels' | 'text';
  inputs: unknown[];
  methods: Record<string, unknown[]>;
}

const expected = readJson<{ cases: Case[] }>(localFixture('transformers/expected.json'));

/** Every method output of the graph, flattened. */
async function runMethods(model: ConvertedSklearnModel, feeds: GraphFeed[]): Promise<Record<string, unknown[]>> {
  const session = await ort.InferenceSession.create(model.onnx);
  const input: Record<string, ort.Tensor> = {};
  for (const f of feeds) input[f.name] = new ort.Tensor(f.type === 'DOUBLE' ? 'float64' : 'string', f.data, f.dims);
  const out = await session.run(input);
  await session.release();
  const res: Record<string, unknown[]> = {};
  for (const [method, { output }] of Object.entries(model.methods)) {
    res[method] = Array.from(out[output]!.data as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : v));
  }
  return res;
}

const nums = (v: unknown[]): number[] => (v.flat(2) as unknown[]).map((x) => (x === null ? Number.NaN : (x as number)));

describe.each(expected.cases.map((c) => [c.name, c] as const))('scikit-learn 1.2.1 %s', (_name, c) => {
  it('serves the same methods and matches every one of them (1e-9 relative)', async () => {
    const model = await loadSklearnModel(localFixture(`transformers/${c.file}`));
    expect(Object.keys(model.methods).sort()).toEqual(Object.keys(c.methods).sort());
    const got = await runMethods(model, model.encoder.encodeInstances(c.inputs));
    for (const [method, want] of Object.entries(c.methods)) {
      const flat = (want as unknown[]).flat(2);
      if (flat.some((v) => typeof v === 'string') || (method === 'predict' && model.task === 'classifier')) {
        expect(got[method], method).toEqual(flat);
      } else {
        expectClose(got[method] as number[], nums(want), 1e-9, 1e-12);
      }
    }
  });
});

describe('MurmurHash3 (x86, 32-bit) matches sklearn.utils.murmurhash3_32 on UTF-8 bytes', () => {
  // values printed by scikit-learn 1.2.1: murmurhash3_32(s.encode('utf-8'), 0)
  const cases: [string, number][] = [
    ['', 0],
    ['a', 1009084850],
    ['ab', -1681926305],
    ['abc', -1277324294],
    ['abcd', 1139631978],
    ['hello world', 1586663183],
    ['Über café', 508453163],
    ['東京', -1765863102],
  ];
  it.each(cases)('%j → %i', (s, h) => {
    expect(murmurhash3(new TextEncoder().encode(s))).toBe(h);
  });
});

describe('ndtri (Cephes) matches scipy.special.ndtri', () => {
  // scipy 1.10.1: ndtri(q) for q in each Cephes branch, printed with repr
  const cases: [number, number][] = [
    [0.5, 0],
    [0.3, -0.5244005127080409],
    [0.9, 1.2815515655446004],
    [1e-7, -5.1993375821928165],
    [1e-20, -9.262340089798409],
    [0, Number.NEGATIVE_INFINITY],
    [1, Number.POSITIVE_INFINITY],
  ];
  it.each(cases)('ndtri(%d) = %d', (q, want) => {
    const got = ndtri(q);
    if (Number.isFinite(want)) expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(want)));
    else expect(got).toBe(want);
  });
});
