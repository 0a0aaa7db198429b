import type { ModelServer } from '@servekit/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSklearnModel, SklearnModel } from '../src/index.js';
import { expectClose, localFixture, postJson, readJson, serveOnLoopback } from './helpers.js';

/** One case of fixtures/neighbors/expected.json (written by _generators/gen_neighbors.py). */
interface NeighborsCase {
  name: string;
  file: string;
  ties: boolean;
  n_samples_fit: number;
  inputs: number[][];
  methods: {
    kneighbors?: { distances: number[][]; indices: number[][] };
    transform?: number[][];
    predict?: number[];
  };
}

const cases = readJson<{ cases: NeighborsCase[] }>(localFixture('neighbors/expected.json')).cases;
const caseOf = (name: string): NeighborsCase => cases.find((c) => c.name === name)!;

/** Every graph output for `c.inputs`, run in-process with onnxruntime-node. */
async function run(c: NeighborsCase): Promise<Record<string, ort.Tensor>> {
  const model = await loadSklearnModel(localFixture(`neighbors/${c.file}`));
  const session = await ort.InferenceSession.create(model.onnx);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const f of model.encoder.encodeInstances(c.inputs))
      feeds[f.name] = new ort.Tensor('float64', f.data as Float64Array, f.dims);
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const rowsOf = (t: ort.Tensor): number[][] => {
  const cols = t.dims[1]!;
  const flat = Array.from(t.data as ArrayLike<number | bigint>, Number);
  return Array.from({ length: t.dims[0]! }, (_, i) => flat.slice(i * cols, (i + 1) * cols));
};

/** Runs of equal distances in one row: [start, end) index pairs. */
function tieRuns(d: number[]): [number, number][] {
  const runs: [number, number][] = [];
  let start = 0;
  for (let j = 1; j <= d.length; j++) {
    if (j === d.length || d[j] !== d[start]) {
      runs.push([start, j]);
      start = j;
    }
  }
  return runs;
}

describe('kneighbors and the neighbours-graph transformers match scikit-learn 1.2.1 (1e-9 relative)', () => {
  it('the fixtures hold exact ties, a tree-fitted model, a pipeline and both graph modes', () => {
    expect(cases.filter((c) => c.ties).length).toBeGreaterThanOrEqual(3);
    const kd = caseOf('nearest_neighbors_ties_kd_tree').methods.kneighbors!;
    // the grid has rows whose 6 nearest include equal distances
    expect(kd.distances.some((d) => tieRuns(d).some(([a, b]) => b - a > 1))).toBe(true);
    expect(caseOf('radius_neighbors_transformer_connectivity_kd_tree').methods.transform!.flat()).toContain(1);
  });

  it.each(cases.filter((c) => !c.ties).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const out = await run(c);
    const k = c.methods.kneighbors;
    if (k) {
      expect(out.distances!.dims).toEqual([c.inputs.length, k.distances[0]!.length]);
      expectClose(Array.from(out.distances!.data as Float64Array), k.distances.flat(), 1e-9, 1e-12);
      expect(rowsOf(out.indices!)).toEqual(k.indices);
    }
    if (c.methods.transform) {
      const t = out.variable!;
      expect(t.dims).toEqual([c.inputs.length, c.n_samples_fit]);
      expectClose(Array.from(t.data as Float64Array), c.methods.transform.flat(), 1e-9, 1e-12);
    }
  });

  it.each(cases.filter((c) => c.ties).map((c) => [c.name, c] as const))(
    '%s: exact ties come in ascending training-row order',
    async (_name, c) => {
      const want = c.methods.kneighbors!;
      const out = await run(c);
      const distances = rowsOf(out.distances!);
      const indices = rowsOf(out.indices!);
      expect(distances).toEqual(want.distances); // integer grid: the distances are exact
      let reordered = 0;
      distances.forEach((d, r) => {
        for (const [a, b] of tieRuns(d)) {
          const got = indices[r]!.slice(a, b);
          const theirs = want.indices[r]!.slice(a, b);
          expect(got).toEqual([...got].sort((p, q) => p - q));
          // a run cut by k may hold other rows at that distance; a whole run is the same set of rows
          if (b < d.length) expect(got).toEqual([...theirs].sort((p, q) => p - q));
          if (got.join() !== theirs.join()) reordered++;
        }
        if (tieRuns(d).every(([a, b]) => b - a === 1)) expect(indices[r]).toEqual(want.indices[r]);
      });
      // scikit-learn's own order among equal distances is its heap's and tree's, not the index order
      if (c.name === 'nearest_neighbors_ties_kd_tree') expect(reordered).toBeGreaterThan(0);
    },
  );
});

describe('kneighbors through a real ModelServer (HTTP on 127.0.0.1)', () => {
  let server: ModelServer;
  let base = '';
  const wide = caseOf('kneighbors_transformer_wide');

  beforeAll(async () => {
    ({ server, base } = await serveOnLoopback([
      new SklearnModel('nn', { path: localFixture('neighbors/nearest_neighbors_brute.joblib') }),
      new SklearnModel('knn', { path: localFixture('neighbors/kneighbors_classifier.joblib') }),
      // the dense graph of 2 rows is 2 × 3000 × 8 = 48000 bytes: over a 40000-byte budget, one row is not
      new SklearnModel('wide', { path: localFixture(`neighbors/${wide.file}`), maxOutputBytes: 40000 }),
    ]));
  });
  afterAll(async () => {
    await server.stop();
  });

  it('NearestNeighbors answers kneighbors by default: V1 rows of {distances, indices}', async () => {
    const c = caseOf('nearest_neighbors_brute');
    const res = await postJson(base, '/v1/models/nn:predict', { instances: c.inputs });
    expect(res.status).toBe(200);
    const rows = res.json.predictions as { distances: number[]; indices: number[] }[];
    expect(rows.map((r) => r.indices)).toEqual(c.methods.kneighbors!.indices);
    expectClose(
      rows.flatMap((r) => r.distances),
      c.methods.kneighbors!.distances.flat(),
      1e-9,
      1e-12,
    );
  });

  it('KNeighborsClassifier: predict by default, kneighbors on request (V2: distances FP64, indices INT64)', async () => {
    const c = caseOf('kneighbors_classifier');
    const inputs = [{ name: 'input-0', datatype: 'FP64', shape: [c.inputs.length, 3], data: c.inputs.flat() }];
    const p = await postJson(base, '/v2/models/knn/infer', { inputs });
    expect((p.json.outputs as { data: number[] }[])[0]!.data).toEqual(c.methods.predict);
    const k = await postJson(base, '/v2/models/knn/infer', { inputs, parameters: { method: 'kneighbors' } });
    expect(k.status).toBe(200);
    const outs = k.json.outputs as { name: string; datatype: string; shape: number[]; data: number[] }[];
    expect(outs.map((o) => [o.name, o.datatype])).toEqual([
      ['distances', 'FP64'],
      ['indices', 'INT64'],
    ]);
    expect(outs[1]!.shape).toEqual([c.inputs.length, 3]);
    expect(outs[1]!.data).toEqual(c.methods.kneighbors!.indices.flat());
    expectClose(outs[0]!.data, c.methods.kneighbors!.distances.flat(), 1e-9, 1e-12);
  });

  it('a dense neighbours graph over the output budget is a 413 before the graph runs; one row is served', async () => {
    const big = await postJson(base, '/v1/models/wide:predict', { instances: wide.inputs });
    expect(big.status).toBe(413);
    expect(String(big.json.error)).toMatch(/transform of 2 rows × 3000 columns would decode to 48000 bytes/);
    const one = await postJson(base, '/v1/models/wide:predict', { instances: wide.inputs.slice(0, 1) });
    expect(one.status).toBe(200);
    expectClose((one.json.predictions as number[][]).flat(), wide.methods.transform![0]!, 1e-9, 1e-12);
  });

  it('a model whose one row is over the budget is refused at load, saying why', async () => {
    const model = new SklearnModel('too-wide', {
      path: localFixture(`neighbors/${wide.file}`),
      maxOutputBytes: 1000,
      loadIn: 'main',
    });
    await expect(model.load()).rejects.toThrow(
      /KNeighborsTransformer\.transform answers 3000 columns per row: 24000 bytes, over the 1000-byte budget/,
    );
  });
});
