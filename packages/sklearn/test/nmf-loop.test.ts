import { readFileSync } from 'node:fs';
import type { ModelServer } from '@servekit/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertSklearnBytes, loadSklearnModel, SklearnModel, UnsupportedEstimatorError } from '../src/index.js';
import { expectClose, localFixture, readJson, serveOnLoopback } from './helpers.js';

/** One case of fixtures/nmf/expected.json (written by _generators/gen_nmf_loop.py). */
interface NmfCase {
  name: string;
  file: string;
  max_iter: number;
  n_components: number;
  /** Sweeps scikit-learn's transform ran on `inputs`. */
  n_iter: number;
  inputs: number[][];
  transform: number[][];
  /** The transform of the same model with max_iter = n_iter − 1. */
  transform_one_sweep_fewer?: number[][];
}

const expected = readJson<{ cases: NmfCase[] }>(localFixture('nmf/expected.json'));
const caseOf = (name: string): NmfCase => expected.cases.find((c) => c.name === name)!;

/** The served transform of `c.inputs`, flattened, run in-process with onnxruntime-node. */
async function transform(c: NmfCase): Promise<number[]> {
  const model = await loadSklearnModel(localFixture(`nmf/${c.file}`));
  const session = await ort.InferenceSession.create(model.onnx);
  try {
    const input: Record<string, ort.Tensor> = {};
    for (const f of model.encoder.encodeInstances(c.inputs)) {
      input[f.name] = new ort.Tensor('float64', f.data as Float64Array, f.dims);
    }
    const out = await session.run(input);
    return Array.from(out[model.methods.transform!.output]!.data as Float64Array);
  } finally {
    await session.release();
  }
}

describe('NMF (solver cd) transform as an ONNX Loop matches scikit-learn 1.2.1 (1e-9 relative)', () => {
  it('the fixtures cover the default max_iter, a long solve, one stopped by max_iter, and 100 components', () => {
    expect(caseOf('nmf_default').max_iter).toBe(200);
    expect(caseOf('nmf_many_iterations').n_iter).toBeGreaterThan(50);
    const capped = caseOf('nmf_hits_max_iter');
    expect(capped.n_iter).toBe(capped.max_iter);
    expect(caseOf('nmf_100_components').n_components).toBe(100);
  });

  it.each(expected.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = await transform(c);
    expectClose(got, c.transform.flat(), 1e-9, 1e-12);
    // the comparison is fine enough to see one sweep more or fewer: the Loop stopped where scikit-learn stopped
    if (c.transform_one_sweep_fewer && c.n_iter > 2) {
      const short = c.transform_one_sweep_fewer.flat();
      const gap = Math.max(...short.map((v, i) => Math.abs(v - c.transform.flat()[i]!) / (Math.abs(v) + 1e-12)));
      expect(gap).toBeGreaterThan(1e-8);
    }
  });

  it('the graph holds one sweep, not max_iter of them: a Loop whose body grows with the components only', async () => {
    const small = await loadSklearnModel(localFixture('nmf/nmf_many_iterations.joblib'));
    const capped = await loadSklearnModel(localFixture('nmf/nmf_hits_max_iter.joblib'));
    // same components (3), same max_iter: models that differ only in components_ have the same size
    expect(Math.abs(small.onnx.length - capped.onnx.length)).toBeLessThan(64);
    expect(Buffer.from(small.onnx).includes(Buffer.from('Loop'))).toBe(true);
  });
});

describe('NMF refusals', () => {
  const file = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`nmf/${name}.joblib`)));
  it('more than 200 components: refused with the reason', () => {
    const run = (): unknown => convertSklearnBytes(file('refused_nmf_201_components'));
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(/NMF with 201 components is not supported: .* at most 200 components/);
  });
});

describe('NMF with the default max_iter through a real ModelServer (HTTP on 127.0.0.1)', () => {
  let server: ModelServer;
  let base = '';
  const served = ['nmf_default', 'nmf_many_iterations'];

  beforeAll(async () => {
    ({ server, base } = await serveOnLoopback(
      served.map((n) => new SklearnModel(n, { path: localFixture(`nmf/${caseOf(n).file}`) })),
    ));
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each(served)('V1 %s: the request batch is solved together, as scikit-learn does', async (name) => {
    const c = caseOf(name);
    const res = await fetch(`${base}/v1/models/${name}:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: c.inputs }),
    });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { predictions: number[][] };
    expectClose(json.predictions.flat(), c.transform.flat(), 1e-9, 1e-12);
  });
});
