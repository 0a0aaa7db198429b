// OneHotEncoder with infrequent categories (min_frequency / max_categories, scikit-learn >= 1.1), from real
// scikit-learn 1.4.2 files (gen_debian_sweep.py): served behind a real ModelServer, and inconsistent grouping state
// refused with a message that names it. The outputs themselves are checked against scikit-learn in
// debian-sweeps.test.ts.
import { readFileSync } from 'node:fs';
import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertEstimator } from '../src/convert/model.js';
import { SklearnModel, UnsupportedEstimatorError } from '../src/index.js';
import { readJoblibBytes } from '../src/pickle/joblib.js';
import type { NdArray, PyDict, PyObject } from '../src/pickle/py-types.js';
import { expectClose, localFixture, postJson, readJson, serveOnLoopback } from './helpers.js';

interface Case {
  name: string;
  inputs: unknown[];
  methods: Record<string, unknown[]>;
}
const cases = readJson<{ cases: Case[] }>(localFixture('trixie/expected.json')).cases;
const byName = (name: string): Case => cases.find((c) => c.name === name)!;

/** The unpickled fixture with its attribute dict edited by `edit`, then converted. */
function convertEdited(name: string, edit: (state: PyDict) => void): () => unknown {
  const root = readJoblibBytes(new Uint8Array(readFileSync(localFixture(`trixie/${name}.joblib`)))) as PyObject;
  expect(root.name).toBe('OneHotEncoder');
  edit(root.state as PyDict);
  return () => convertEstimator(root);
}

describe('OneHotEncoder with infrequent categories behind a real ModelServer (HTTP on 127.0.0.1)', () => {
  let server: ModelServer;
  let base = '';
  beforeAll(async () => {
    ({ server, base } = await serveOnLoopback([
      new SklearnModel('oh', { path: localFixture('trixie/onehot_infrequent_min_frequency.joblib') }),
      new SklearnModel('lr', { path: localFixture('trixie/onehot_infrequent_logreg.joblib') }),
    ]));
  });
  afterAll(async () => {
    await server.stop();
  });

  it('V1 string rows: rare and unknown categories land in the infrequent column (transform)', async () => {
    const c = byName('onehot_infrequent_min_frequency');
    const res = await postJson(base, '/v1/models/oh:predict', { instances: c.inputs });
    expect(res.status).toBe(200);
    const rows = res.json.predictions as number[][];
    expect(rows.flat()).toEqual((c.methods.transform as number[][]).flat());
    // 'teal' (seen once) and 'purple' (never seen) give the same color columns: the infrequent one
    expect(rows[1]!.slice(0, 4)).toEqual(rows[2]!.slice(0, 4));
  });

  it('into LogisticRegression: labels and probabilities as scikit-learn 1.4.2', async () => {
    const c = byName('onehot_infrequent_logreg');
    const labels = await postJson(base, '/v1/models/lr:predict', { instances: c.inputs });
    expect(labels.json.predictions).toEqual(c.methods.predict);
    const proba = await postJson(base, '/v1/models/lr:predict', {
      instances: c.inputs,
      parameters: { predict_proba: true },
    });
    expectClose((proba.json.predictions as number[][]).flat(), (c.methods.predict_proba as number[][]).flat(), 1e-9);
  });
});

describe('OneHotEncoder infrequent-category state: inconsistent values are refused', () => {
  const name = 'onehot_infrequent_min_frequency';
  it('a mapping list of another length than categories_', () => {
    const run = convertEdited(name, (s) => s.set('_default_to_infrequent_mappings', []));
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(/OneHotEncoder has 0 infrequent-category mappings for 2 features/);
  });
  it('a mapping that is not an array', () => {
    const run = convertEdited(name, (s) => s.set('_default_to_infrequent_mappings', ['x', null]));
    expect(run).toThrow(/OneHotEncoder infrequent-category mappings must be arrays/);
  });
  it('a mapping with a negative, fractional or wrong-length entry', () => {
    for (const data of [Float64Array.of(0, 1, -1, 2, 2), Float64Array.of(0, 1.5, 2, 3, 3), Float64Array.of(0, 1)]) {
      const run = convertEdited(name, (s) => {
        const maps = s.get('_default_to_infrequent_mappings') as (NdArray | null)[];
        s.set('_default_to_infrequent_mappings', [{ ...maps[0]!, data, shape: [data.length] }, maps[1]!]);
      });
      expect(run).toThrow(/OneHotEncoder infrequent-category mapping of feature 0 is inconsistent/);
    }
  });
  it('a dropped column outside the grouped columns', () => {
    const run = convertEdited(name, (s) => {
      const categories = s.get('categories_') as NdArray[]; // an object array: its data is a list of values
      s.set('_drop_idx_after_grouping', { ...categories[0]!, shape: [2], data: [9, null] });
    });
    expect(run).toThrow(/OneHotEncoder drops column 9 of feature 0, which has 4/);
  });
});
