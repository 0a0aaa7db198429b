// An XGBoost model that records its category names (XGBoost >= 3.1 `cats`): V1 rows may send the names, which map
// to codes by position; a name not in the training set is a 400, as XGBoost refuses it. The fixture is XGBoost
// 1.7.4's model with a hand-written `cats` record (1.7 cannot write one; see gen_xgboost_category_names.py); the
// expected values are the real Booster.predict() on the codes.
import { readFileSync } from 'node:fs';
import { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertXGBoostBytes, loadXGBoostModel, TreeModel } from '../src/index.js';
import { expectClose, localFixture, runConverted } from './helpers.js';

const DIR = localFixture('xgboost-category-names');
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as {
  category_names: { color: string[]; size: string[] };
  inputs: (string | number | null)[][];
  booster_predict: number[];
};

describe('XGBoost category names (gradient_booster.model.cats)', () => {
  it.each(['model.json', 'model.ubj'])(
    '%s: reads the names of the string columns, UTF-8 included, and marks unknown names as errors',
    async (file) => {
      const m = await loadXGBoostModel(`${DIR}/${file}`);
      expect(m.categoryNames).toEqual([
        expected.category_names.color,
        expected.category_names.size,
        undefined,
        undefined,
      ]);
      expect(m.categoryNames![0]![11]).toBe('türkis');
      expect(m.categoricalColumns).toEqual([0, 1]);
      expect(m.unknownCategory).toBe('error');
      const codes = expected.inputs.map((row) =>
        row.map((v, i) => (typeof v === 'string' ? m.categoryNames![i]!.indexOf(v) : (v ?? Number.NaN))),
      );
      expectClose((await runConverted(m, codes)).predict, expected.booster_predict, `${file} codes`);
    },
  );

  it('a model without cats (XGBoost 1.7) has no names and takes codes only', async () => {
    const m = await loadXGBoostModel(localFixture('xgboost-categorical/reg_partition/model.json'));
    expect(m.categoryNames).toBeUndefined();
  });

  it('refuses a cats record whose columns do not match the features, or whose offsets overrun its bytes', () => {
    const text = readFileSync(`${DIR}/model.json`, 'utf8');
    const short = text.replace(',{"offsets":[],"values":[]}]', ']');
    expect(short).not.toBe(text);
    expect(() => convertXGBoostBytes(new TextEncoder().encode(short), 'model.json')).toThrow(
      'gradient_booster.model.cats.enc has 3 columns but the model has 4 features',
    );
    const overrun = text.replace('"offsets":[0,3,8,', '"offsets":[0,3,800,');
    expect(() => convertXGBoostBytes(new TextEncoder().encode(overrun), 'model.json')).toThrow(
      'gradient_booster.model.cats.enc[0]: offsets 3..800 lie outside its 54 bytes',
    );
  });

  describe('served', () => {
    let server: ModelServer;
    let base: string;
    beforeAll(async () => {
      server = new ModelServer({ httpPort: 0, host: '127.0.0.1', enableGrpc: false, logLevel: 'silent' });
      await server.start([new TreeModel('names', { path: `${DIR}/model.json` })]);
      base = `http://127.0.0.1:${server.httpPort}`;
    });
    afterAll(() => server.stop());

    const predict = async (body: unknown) => {
      const res = await fetch(`${base}/v1/models/names:predict`, { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { predictions?: number[]; error?: string } };
    };

    it('V1 rows with category names (and null) equal Booster.predict() on their codes', async () => {
      const r = await predict({ instances: expected.inputs });
      expect(r.status).toBe(200);
      expectClose(r.body.predictions!, expected.booster_predict, 'names');
      const names = ['color', 'size', 'x', 'z'];
      const dicts = expected.inputs.map((row) => Object.fromEntries(row.map((v, i) => [names[i], v])));
      expectClose((await predict({ instances: dicts })).body.predictions!, expected.booster_predict, 'dict rows');
      const codes = expected.inputs.map((row) =>
        row.map((v, i) => (typeof v === 'string' ? expected.category_names[i === 0 ? 'color' : 'size'].indexOf(v) : v)),
      );
      expectClose((await predict({ instances: codes })).body.predictions!, expected.booster_predict, 'codes');
    });

    it('a name not in the training set is a 400 that names it, as Booster.predict raises', async () => {
      const row = [...expected.inputs[0]!];
      row[0] = 'purple';
      const r = await predict({ instances: [expected.inputs[1], row] });
      expect(r.status).toBe(400);
      expect(r.body.error).toContain(
        'instances[1][0] is "purple", a category not in the training set for feature "color" (column 0)',
      );
    });
  });
});
