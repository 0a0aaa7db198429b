import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convert, convertXGBoostBytes, loadTreeModel, loadXGBoostModel, TreeModelError } from '../src/index.js';
import { fixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'servekit-xgb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const src = (f: string): Uint8Array => new Uint8Array(readFileSync(fixture(`xgboost/breast_cancer_binary/${f}`)));
const write = (name: string, data: Uint8Array | string): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
const jsonText = (): string => readFileSync(fixture('xgboost/breast_cancer_binary/model.json'), 'utf8');

describe('malformed XGBoost files give errors naming the file and the problem', () => {
  it('a missing file', async () => {
    const p = join(dir, 'nope.json');
    await expect(loadXGBoostModel(p)).rejects.toThrow(`${p}: cannot read the file (ENOENT)`);
  });

  it('an empty file', async () => {
    const p = write('empty.bst', new Uint8Array());
    await expect(loadXGBoostModel(p)).rejects.toThrow(TreeModelError);
    await expect(loadXGBoostModel(p)).rejects.toThrow(`${p}: the file is empty`);
  });

  it('a truncated legacy binary model, at several cut points', async () => {
    const full = src('model.bst');
    for (const cut of [10, 150, 400, Math.floor(full.length / 2), full.length - 3]) {
      const p = write(`cut${cut}.bst`, full.subarray(0, cut));
      await expect(loadXGBoostModel(p)).rejects.toThrow(
        new RegExp(`^${p}: cannot read xgboost-binary model: truncated`),
      );
    }
  });

  it('a truncated UBJSON model', async () => {
    const full = src('model.ubj');
    const p = write('cut.ubj', full.subarray(0, Math.floor(full.length * 0.7)));
    await expect(loadXGBoostModel(p)).rejects.toThrow(new RegExp(`^${p}: cannot read xgboost-ubj model: truncated`));
  });

  it('a truncated JSON model', async () => {
    const text = jsonText();
    const p = write('cut.json', text.slice(0, text.length / 2));
    await expect(loadXGBoostModel(p)).rejects.toThrow(
      new RegExp(`^${p}: cannot read xgboost-json model: invalid JSON`),
    );
  });

  it('JSON that is not an XGBoost model', async () => {
    const p = write('other.json', '{"hello": 1}');
    await expect(loadXGBoostModel(p)).rejects.toThrow(`${p}: cannot read xgboost-json model: missing "learner"`);
  });

  it('an unsupported objective and booster', () => {
    const obj = jsonText().replace('"name":"binary:logistic"', '"name":"reg:made_up"');
    expect(() => convertXGBoostBytes(new TextEncoder().encode(obj), 'obj.json')).toThrow(
      /^obj\.json: .*objective "reg:made_up" is not supported; supported: reg:squarederror/,
    );
    const lin = jsonText().replace('"name":"gbtree"', '"name":"gblinear"');
    expect(() => convertXGBoostBytes(new TextEncoder().encode(lin), 'lin.json')).toThrow(
      /^lin\.json: .*booster "gblinear" is not supported/,
    );
  });

  it('categorical splits are refused', () => {
    const doc = JSON.parse(jsonText()) as {
      learner: { gradient_booster: { model: { trees: { split_type: number[] }[] } } };
    };
    doc.learner.gradient_booster.model.trees[3]!.split_type[0] = 1;
    expect(() => convertXGBoostBytes(new TextEncoder().encode(JSON.stringify(doc)), 'cat.json')).toThrow(
      /^cat\.json: .*tree 3 node 0 is a categorical split/,
    );
  });

  it('inconsistent trees are refused', () => {
    const doc = JSON.parse(jsonText()) as {
      learner: { gradient_booster: { model: { trees: { left_children: number[]; split_indices: number[] }[] } } };
    };
    doc.learner.gradient_booster.model.trees[0]!.left_children[0] = 99;
    expect(() => convertXGBoostBytes(new TextEncoder().encode(JSON.stringify(doc)), 'bad.json')).toThrow(
      /tree 0 node 0 has child 99, outside 1\.\.14/,
    );
    const doc2 = JSON.parse(jsonText()) as typeof doc;
    doc2.learner.gradient_booster.model.trees[0]!.split_indices[0] = 30;
    expect(() => convertXGBoostBytes(new TextEncoder().encode(JSON.stringify(doc2)), 'bad.json')).toThrow(
      /tree 0: node 0 splits on feature 30, but the model has 30/,
    );
  });

  it('a file in no known format', async () => {
    const p = write('noise.dat', Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    await expect(loadTreeModel(p)).rejects.toThrow(
      `${p}: not a recognised XGBoost (JSON/UBJSON/binary), LightGBM text or CatBoost JSON model`,
    );
  });

  it('accepts the bare NaN tokens XGBoost can write in JSON', async () => {
    const text = jsonText().replace('"loss_changes":[', '"loss_changes":[NaN,');
    const m = convertXGBoostBytes(new TextEncoder().encode(text), 'nan.json');
    expect(m.objective).toBe('binary:logistic');
  });
});

describe('convert()', () => {
  it('returns the ONNX bytes for servekit convert', async () => {
    const bytes = await convert(fixture('xgboost/iris_multiclass/model.bst'));
    const m = await loadXGBoostModel(fixture('xgboost/iris_multiclass/model.json'));
    expect(bytes.length).toBeGreaterThan(1000);
    expect(Buffer.from(bytes).equals(Buffer.from(m.onnx))).toBe(true);
  });
});
