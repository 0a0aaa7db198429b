import { readFileSync } from 'node:fs';
import type { ModelServer } from '@servekit/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertSklearnBytes, loadSklearnModel, SklearnModel, UnsupportedEstimatorError } from '../src/index.js';
import { expectClose, localFixture, postJson, readJson, serveOnLoopback } from './helpers.js';

/** One case of fixtures/nmf-mu/expected.json (written by _generators/gen_nmf_multiplicative.py). */
interface MuCase {
  name: string;
  file: string;
  max_iter: number;
  /** Updates scikit-learn's transform ran on `inputs`. */
  n_iter: number;
  inputs: number[][];
  transform: number[][];
  /** The transform after n_iter − 1 updates. */
  transform_one_update_fewer?: number[][];
}

const cases = readJson<{ cases: MuCase[] }>(localFixture('nmf-mu/expected.json')).cases;
const caseOf = (name: string): MuCase => cases.find((c) => c.name === name)!;

/** The served transform of `c.inputs`, flattened, run in-process with onnxruntime-node. */
async function transform(c: MuCase): Promise<number[]> {
  const model = await loadSklearnModel(localFixture(`nmf-mu/${c.file}`));
  const session = await ort.InferenceSession.create(model.onnx);
  try {
    const input: Record<string, ort.Tensor> = {};
    for (const f of model.encoder.encodeInstances(c.inputs))
      input[f.name] = new ort.Tensor('float64', f.data as Float64Array, f.dims);
    const out = await session.run(input);
    return Array.from(out[model.methods.transform!.output]!.data as Float64Array);
  } finally {
    await session.release();
  }
}

describe("NMF(solver='mu') and MiniBatchNMF transforms as an ONNX Loop match scikit-learn 1.2.1 (1e-9 relative)", () => {
  it('the fixtures cover a long solve, max_iter reached, tol 0, KL with l1 and l2, and MiniBatchNMF', () => {
    expect(caseOf('nmf_mu_kl_tol_1e-6').n_iter).toBeGreaterThanOrEqual(40);
    for (const name of ['nmf_mu_hits_max_iter', 'nmf_mu_tol_0', 'minibatch_nmf_transform_max_iter']) {
      expect(caseOf(name).n_iter).toBe(caseOf(name).max_iter);
    }
    expect(caseOf('minibatch_nmf_frobenius').n_iter).toBeLessThan(caseOf('minibatch_nmf_frobenius').max_iter);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = await transform(c);
    expectClose(got, c.transform.flat(), 1e-9, 1e-12);
    // fine enough to see one update fewer: the Loop stopped on the update where scikit-learn stopped
    if (c.transform_one_update_fewer) {
      const short = c.transform_one_update_fewer.flat();
      const want = c.transform.flat();
      const gap = Math.max(...short.map((v, i) => Math.abs(v - want[i]!) / (Math.abs(want[i]!) + 1e-12)));
      expect(gap).toBeGreaterThan(1e-8);
    }
  });
});

describe('NMF multiplicative-update refusals', () => {
  const file = (name: string): Uint8Array => new Uint8Array(readFileSync(localFixture(`nmf-mu/${name}.joblib`)));
  it('beta losses other than frobenius and kullback-leibler are refused, naming the class and the loss', () => {
    const is = (): unknown => convertSklearnBytes(file('refused_nmf_mu_itakura_saito'));
    expect(is).toThrow(UnsupportedEstimatorError);
    expect(is).toThrow(/NMF with beta_loss=0 is not supported \(frobenius and kullback-leibler are\)/);
    expect(() => convertSklearnBytes(file('refused_minibatch_nmf_beta_1_5'))).toThrow(
      /MiniBatchNMF with beta_loss=1\.5 is not supported/,
    );
  });
});

describe('MiniBatchNMF and NMF mu through a real ModelServer (HTTP on 127.0.0.1)', () => {
  let server: ModelServer;
  let base = '';
  const served = ['nmf_mu_kl_l1_l2', 'minibatch_nmf_frobenius'];

  beforeAll(async () => {
    ({ server, base } = await serveOnLoopback(
      served.map((n) => new SklearnModel(n, { path: localFixture(`nmf-mu/${caseOf(n).file}`) })),
    ));
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each(served)('V1 %s: the request batch is solved together, as scikit-learn does', async (name) => {
    const c = caseOf(name);
    const res = await postJson(base, `/v1/models/${name}:predict`, { instances: c.inputs });
    expect(res.status).toBe(200);
    expectClose((res.json.predictions as number[][]).flat(), c.transform.flat(), 1e-9, 1e-12);
  });
});
