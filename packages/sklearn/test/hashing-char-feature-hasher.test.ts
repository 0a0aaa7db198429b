import { readFileSync } from 'node:fs';
import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translateTokenPattern } from '../src/convert/token-pattern.js';
import { convertSklearnBytes, loadSklearnModel, SklearnModel, UnsupportedEstimatorError } from '../src/index.js';
import { expectClose, localFixture, postJson, readJson, runGraph, serveOnLoopback } from './helpers.js';

/** One case of fixtures/hashing/expected.json (written by _generators/gen_hashing.py). */
interface HashingCase {
  name: string;
  file: string;
  inputs: unknown[];
  methods: Record<string, (number | number[])[]>;
}

const cases = readJson<{ cases: HashingCase[] }>(localFixture('hashing/expected.json')).cases;
const caseOf = (name: string): HashingCase => cases.find((c) => c.name === name)!;

describe('HashingVectorizer (char, char_wb, token patterns) and FeatureHasher match scikit-learn 1.2.1', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s: every served method (1e-9 relative)', async (_name, c) => {
    const model = await loadSklearnModel(localFixture(`hashing/${c.file}`));
    expect(Object.keys(model.methods).sort()).toEqual(Object.keys(c.methods).sort());
    const out = await runGraph(model, model.encoder.encodeInstances(c.inputs));
    for (const [method, want] of Object.entries(c.methods)) {
      const t = out[model.methods[method as 'transform']!.output]!;
      const got = Array.from(t.data as ArrayLike<number | bigint>, Number);
      if (method === 'predict') expect(got).toEqual(want);
      else expectClose(got, want.flat(), 1e-9, 1e-12);
    }
  });

  it('the documents exercise what differs between engines: astral characters, Unicode spaces, empty ones', () => {
    const docs = caseOf('hashing_char_1_3').inputs as string[];
    expect(docs.some((d) => /\p{Extended_Pictographic}/u.test(d))).toBe(true);
    expect(docs.some((d) => d.includes('\u3000') && d.includes('\u2003'))).toBe(true);
    expect(docs).toContain('');
  });
});

describe('token_pattern translation: plain patterns served, the rest refused with the reason', () => {
  const file = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`hashing/${name}.joblib`)));
  const refused: [string, RegExp][] = [
    ['anchors', /token_pattern="\^\\\\w\+\$" is not supported: anchors/],
    ['nested_repetition', /nested repetition .* can backtrack exponentially/],
    ['inline_flag', /lookarounds, named groups and inline flags are not translated/],
    ['two_groups', /more than one capturing group \(scikit-learn raises\)/],
    ['empty_match', /it matches the empty string/],
    ['backreference', /the escape \\1/],
  ];
  it.each(refused)('%s', (name, message) => {
    const run = (): unknown => convertSklearnBytes(file(`refused_token_pattern_${name}`));
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(message);
  });

  it("\\b and \\w take their Unicode meanings (JavaScript's own \\b is ASCII-only)", () => {
    const { source } = translateTokenPattern('HashingVectorizer', '(?u)\\b\\w+\\b');
    expect(Array.from('café über'.matchAll(new RegExp(source, 'gu')), (m) => m[0])).toEqual(['café', 'über']);
  });

  it('FeatureHasher(dtype=float32) is refused', () => {
    expect(() => convertSklearnBytes(file('refused_feature_hasher_float32'))).toThrow(
      /FeatureHasher with dtype=float32 is not supported/,
    );
  });
});

describe('FeatureHasher and char HashingVectorizer through a real ModelServer (HTTP on 127.0.0.1)', () => {
  let server: ModelServer;
  let base = '';
  const names = [
    'feature_hasher_dict',
    'feature_hasher_pair_no_sign',
    'feature_hasher_string_logreg',
    'hashing_char_wb_logreg',
  ];

  beforeAll(async () => {
    ({ server, base } = await serveOnLoopback(
      names.map((n) => new SklearnModel(n, { path: localFixture(`hashing/${caseOf(n).file}`) })),
    ));
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each(names)('V1 %s: instances as documented', async (name) => {
    const c = caseOf(name);
    const res = await postJson(base, `/v1/models/${name}:predict`, { instances: c.inputs });
    expect(res.status).toBe(200);
    const want = c.methods.predict ?? c.methods.transform!;
    if (c.methods.predict) expect(res.json.predictions).toEqual(want);
    else expectClose((res.json.predictions as number[][]).flat(), want.flat() as number[], 1e-9, 1e-12);
  });

  it('V2: one BYTES tensor of JSON samples', async () => {
    const c = caseOf('feature_hasher_dict');
    const inputs = [
      { name: 'input-0', datatype: 'BYTES', shape: [c.inputs.length], data: c.inputs.map((s) => JSON.stringify(s)) },
    ];
    const res = await postJson(base, '/v2/models/feature_hasher_dict/infer', { inputs });
    expect(res.status).toBe(200);
    const out = (res.json.outputs as { shape: number[]; data: number[] }[])[0]!;
    expect(out.shape).toEqual([c.inputs.length, 64]);
    expectClose(out.data, c.methods.transform!.flat() as number[], 1e-9, 1e-12);
  });

  it('samples of the wrong shape are a 400 naming the instance and the expected shape', async () => {
    const bad = await postJson(base, '/v1/models/feature_hasher_pair_no_sign:predict', { instances: [[['a', null]]] });
    expect(bad.status).toBe(400);
    expect(String(bad.json.error)).toMatch(/instance 0, feature 'a': the value must be a number or a string/);
    const single = await postJson(base, '/v1/models/feature_hasher_string_logreg:predict', { instances: ['cat'] });
    expect(single.status).toBe(400);
    expect(String(single.json.error)).toMatch(/instance 0 must be a list of feature names .* not a single string/);
  });
});
