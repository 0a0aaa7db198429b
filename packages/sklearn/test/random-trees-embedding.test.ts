import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSklearnModel, SklearnModel } from '../src/index.js';
import { expectClose, localFixture, postJson, readJson, runGraph, serveOnLoopback } from './helpers.js';

/** One case of fixtures/trees-embedding/expected.json (written by _generators/gen_random_trees_embedding.py). */
interface EmbeddingCase {
  name: string;
  file: string;
  inputs: number[][];
  methods: Record<string, (number | number[])[]>;
}

const cases = readJson<{ cases: EmbeddingCase[] }>(localFixture('trees-embedding/expected.json')).cases;

describe('RandomTreesEmbedding.transform (dense one-hot of the leaves) matches scikit-learn 1.2.1', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s: every served method', async (_name, c) => {
    const model = await loadSklearnModel(localFixture(`trees-embedding/${c.file}`));
    expect(Object.keys(model.methods).sort()).toEqual(Object.keys(c.methods).sort());
    const out = await runGraph(model, model.encoder.encodeInstances(c.inputs));
    for (const [method, want] of Object.entries(c.methods)) {
      const t = out[model.methods[method as 'transform']!.output]!;
      const got = Array.from(t.data as ArrayLike<number | bigint>, Number);
      if (method === 'transform') {
        // one 1 per tree in each row, at the column scikit-learn puts it
        expect(t.dims).toEqual([c.inputs.length, (want[0] as number[]).length]);
        expect(got).toEqual(want.flat());
      } else expectClose(got, want.flat(), 1e-9, 1e-12);
    }
  });
});

describe('RandomTreesEmbedding through a real ModelServer (HTTP on 127.0.0.1)', () => {
  let server: ModelServer;
  let base = '';
  const c = cases.find((x) => x.name === 'random_trees_embedding')!;

  beforeAll(async () => {
    ({ server, base } = await serveOnLoopback([
      new SklearnModel('rte', { path: localFixture(`trees-embedding/${c.file}`) }),
    ]));
  });
  afterAll(async () => {
    await server.stop();
  });

  it('V1 transform by default; V2 FP64 [N, leaves]', async () => {
    const v1 = await postJson(base, '/v1/models/rte:predict', { instances: c.inputs });
    expect(v1.status).toBe(200);
    expect(v1.json.predictions).toEqual(c.methods.transform);
    const inputs = [{ name: 'input-0', datatype: 'FP64', shape: [c.inputs.length, 4], data: c.inputs.flat() }];
    const v2 = await postJson(base, '/v2/models/rte/infer', { inputs });
    const out = (v2.json.outputs as { shape: number[]; data: number[] }[])[0]!;
    expect(out.shape).toEqual([c.inputs.length, (c.methods.transform![0] as number[]).length]);
    expect(out.data).toEqual(c.methods.transform!.flat());
  });
});
