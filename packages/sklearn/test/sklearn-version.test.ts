// Fitted state whose meaning depends on the scikit-learn release that pickled it (`_sklearn_version`): the version
// reader, and AdaBoostClassifier's `algorithm` across 1.2 → 1.9, from the real sweep files (gen_debian_sweep.py).
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convertEstimator } from '../src/convert/model.js';
import { pickledBySklearnAtLeast } from '../src/convert/sklearn-version.js';
import { withEncoder } from '../src/load.js';
import { readJoblibBytes } from '../src/pickle/joblib.js';
import type { PyDict, PyObject } from '../src/pickle/py-types.js';
import { expectClose, localFixture, readJson } from './helpers.js';

const record = (version?: unknown): PyObject =>
  ({
    kind: 'object',
    module: 'sklearn.ensemble._weight_boosting',
    name: 'AdaBoostClassifier',
    state: new Map(version === undefined ? [] : [['_sklearn_version', version]]),
  }) as unknown as PyObject;

describe('pickledBySklearnAtLeast', () => {
  it.each([
    ['1.2.1', false],
    ['1.3.0', true],
    ['1.4.2', true],
    ['1.10.0', true],
    ['2.0.dev0', true],
    ['0.24.2', false],
  ])('_sklearn_version %s ≥ 1.3: %s', (v, want) => {
    expect(pickledBySklearnAtLeast(record(v), 1, 3)).toBe(want);
  });
  it('no version, or not a version string, counts as old', () => {
    expect(pickledBySklearnAtLeast(record(), 1, 3)).toBe(false);
    expect(pickledBySklearnAtLeast(record(13), 1, 3)).toBe(false);
    expect(pickledBySklearnAtLeast(record('latest'), 1, 3)).toBe(false);
  });
});

interface Case {
  name: string;
  inputs: number[][];
  methods: Record<string, unknown[]>;
}

/** decision_function of the forky (1.9.0) ada_samme file after `edit` of its attribute dict. */
async function adaDecision(edit: (s: PyDict) => void): Promise<number[]> {
  const root = readJoblibBytes(new Uint8Array(readFileSync(localFixture('forky/ada_samme.joblib')))) as PyObject;
  edit(root.state as PyDict);
  const model = withEncoder(convertEstimator(root));
  const c = readJson<{ cases: Case[] }>(localFixture('forky/expected.json')).cases.find((k) => k.name === 'ada_samme')!;
  const session = await ort.InferenceSession.create(model.onnx);
  const feeds: Record<string, ort.Tensor> = {};
  for (const f of model.encoder.encodeInstances(c.inputs)) feeds[f.name] = new ort.Tensor('float64', f.data, f.dims);
  const out = await session.run(feeds);
  await session.release();
  return Array.from(out[model.methods.decision_function!.output]!.data as Float64Array);
}

describe('AdaBoostClassifier: which algorithm and which SAMME formula, by release', () => {
  const c = readJson<{ cases: Case[] }>(localFixture('forky/expected.json')).cases.find((k) => k.name === 'ada_samme')!;
  const want = (c.methods.decision_function as number[][]).flat();

  it('1.9 pickles have no algorithm attribute: SAMME, symmetric scores (as scikit-learn 1.9.0)', async () => {
    const root = readJoblibBytes(new Uint8Array(readFileSync(localFixture('forky/ada_samme.joblib')))) as PyObject;
    expect((root.state as PyDict).has('algorithm')).toBe(false);
    expectClose(await adaDecision(() => {}), want, 1e-9);
  });
  it("1.6 / 1.7 pickles say algorithm='deprecated': also SAMME", async () => {
    const got = await adaDecision((s) => {
      s.set('algorithm', 'deprecated');
      s.set('_sklearn_version', '1.6.1');
    });
    expectClose(got, want, 1e-9);
  });
  it('the same members pickled by 1.2 get the 1.2 formula: scores w and 0, so decision·K/(K−1) − 1/(K−1)', async () => {
    const got = await adaDecision((s) => {
      s.set('algorithm', 'SAMME');
      s.set('_sklearn_version', '1.2.1');
    });
    const k = 3;
    expectClose(
      got.map((v) => (v * k) / (k - 1) - 1 / (k - 1)),
      want,
      1e-9,
    );
  });
});
