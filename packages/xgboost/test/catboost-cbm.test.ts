// CatBoost binary models (.cbm, a flatbuffer) read without CatBoost. Fixtures: real CatBoost 1.2.10 files from
// ridewithgps/catboost-inference (Apache-2.0, test/fixtures): iris.cbm (4 float features, MultiClass) with the
// raw values and probabilities CatBoost itself computed, and churn_mixed.cbm (string categories as CTRs, refused).
import { readFileSync } from 'node:fs';
import { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cbmToJsonDocument } from '../src/catboost-cbm.js';
import { convertCatBoostBytes, loadTreeModel, TreeModel, TreeModelError } from '../src/index.js';
import { expectClose, localFixture, runConverted } from './helpers.js';

const DIR = localFixture('catboost-cbm');
const reference = JSON.parse(readFileSync(`${DIR}/iris_reference.json`, 'utf8')) as {
  rows: { features: number[]; raw: number[]; prob: number[]; class: number }[];
};
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(`${DIR}/${name}`));

describe('CatBoost binary models (.cbm)', () => {
  it('reads iris.cbm: 4 float features, 50 oblivious trees of depth 4, 3 outputs, the MultiClass loss', async () => {
    const doc = cbmToJsonDocument(bytes('iris.cbm')) as {
      features_info: { float_features: { flat_feature_index: number; borders: number[] }[] };
      oblivious_trees: { splits: unknown[]; leaf_values: number[] }[];
      model_info: { params: { loss_function: { type: string } } };
    };
    expect(doc.features_info.float_features.map((f) => f.flat_feature_index)).toEqual([0, 1, 2, 3]);
    expect(doc.oblivious_trees).toHaveLength(50);
    expect(doc.oblivious_trees.every((t) => t.splits.length === 4 && t.leaf_values.length === 16 * 3)).toBe(true);
    expect(doc.model_info.params.loss_function.type).toBe('MultiClass');
    const m = await loadTreeModel(`${DIR}/iris.cbm`);
    expect([m.format, m.objective, m.kind, m.numClass, m.numFeatures]).toEqual([
      'catboost-binary',
      'MultiClass',
      'classifier',
      3,
      4,
    ]);
  });

  it("equals CatBoost's own raw values and probabilities on the reference rows", async () => {
    const m = convertCatBoostBytes(bytes('iris.cbm'), 'iris.cbm');
    const out = await runConverted(
      m,
      reference.rows.map((r) => r.features),
    );
    expectClose(
      out.margin,
      reference.rows.flatMap((r) => r.raw),
      'iris.cbm raw',
    );
    expectClose(
      out.predict,
      reference.rows.flatMap((r) => r.prob),
      'iris.cbm probabilities',
    );
  });

  it('refuses a model with CTR features (churn_mixed.cbm), and corrupt flatbuffers, saying why', () => {
    expect(() => convertCatBoostBytes(bytes('churn_mixed.cbm'), 'churn.cbm')).toThrow(
      'churn.cbm: cannot read CatBoost binary model: the model uses CTR features',
    );
    const cut = bytes('iris.cbm').slice(0, 4000);
    expect(() => convertCatBoostBytes(cut, 'cut.cbm')).toThrow(
      /cut\.cbm: cannot read CatBoost binary model: the model core is \d+ bytes but the file has 3992 after the header/,
    );
    const wild = bytes('iris.cbm');
    new DataView(wild.buffer).setUint32(8, 0x7fff_fff0, true); // the root offset points far outside
    expect(() => convertCatBoostBytes(wild, 'wild.cbm')).toThrow(
      /wild\.cbm: cannot read CatBoost binary model: .*outside/,
    );
  });

  it('a corrupted file converts or is refused with a TreeModelError, never anything else (seeded byte flips)', () => {
    const original = bytes('iris.cbm');
    let seed = 20261204;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const b = original.slice();
      // flips inside the flatbuffer's first 2 KB: offsets, vtables and vector lengths
      for (let k = 0; k < 4; k++) b[8 + (next() % 2048)] = next() % 256;
      try {
        convertCatBoostBytes(b, 'flip.cbm');
      } catch (e) {
        expect(e).toBeInstanceOf(TreeModelError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  describe('served', () => {
    let server: ModelServer;
    let base: string;
    beforeAll(async () => {
      server = new ModelServer({ httpPort: 0, host: '127.0.0.1', enableGrpc: false, logLevel: 'silent' });
      await server.start([new TreeModel('iris', { path: `${DIR}/iris.cbm` })]);
      base = `http://127.0.0.1:${server.httpPort}`;
    });
    afterAll(() => server.stop());

    it('V1 rows answer the probabilities, and raw values with output_margin', async () => {
      const post = async (body: unknown) =>
        (await (
          await fetch(`${base}/v1/models/iris:predict`, { method: 'POST', body: JSON.stringify(body) })
        ).json()) as {
          predictions: number[][];
        };
      const rows = reference.rows.map((r) => r.features);
      expectClose(
        (await post({ instances: rows })).predictions.flat(),
        reference.rows.flatMap((r) => r.prob),
        'V1',
      );
      const raw = await post({ instances: rows, parameters: { output_margin: true } });
      expectClose(
        raw.predictions.flat(),
        reference.rows.flatMap((r) => r.raw),
        'V1 raw',
      );
    });
  });
});
