import { describe, expect, it } from 'vitest';
import { loadSklearnModel } from '../src/index.js';
import { expectClose, localFixture, readJson, runModel } from './helpers.js';

interface Case {
  name: string;
  file: string;
  input_kind: 'matrix' | 'columns' | 'labels';
  inputs: unknown;
  predict?: (number | string | null)[] | (number | null)[][];
  predict_proba?: number[][];
  transform?: (number | null)[][] | number[];
  classes?: (number | string)[];
}

const expected = readJson<{ cases: Case[] }>(localFixture('extra/expected.json'));
const nums = (v: unknown): number[] => (v as unknown[]).flat(2).map((x) => (x === null ? Number.NaN : (x as number)));
/**
 * float64 graphs (linear, SVR kernels, MLP, neighbours) 1e-6; float32 tree ensembles and SVC (onnxruntime's
 * SVMClassifier computes kernels in float32) 1e-4; a cubic-kernel SVC amplifies that float32 error to ~2e-4.
 */
const rtolOf = (name: string): number =>
  name === 'svc_poly_string_labels' ? 1e-3 : /tree|forest|gb_|hgb|svc|nusvc|dataframe/.test(name) ? 1e-4 : 1e-6;

describe.each(expected.cases.filter((c) => c.input_kind !== 'labels').map((c) => [c.name, c] as const))(
  'generated model %s',
  (_name, c) => {
    it('matches scikit-learn 1.2.1 outputs', async () => {
      const model = await loadSklearnModel(localFixture(`extra/${c.file}`));
      const feeds =
        c.input_kind === 'columns'
          ? model.encoder.encodeColumns(c.inputs as Record<string, unknown[]>)
          : model.encoder.encodeInstances(c.inputs as unknown[]);
      const out = await runModel(model, feeds);
      const rtol = rtolOf(c.name);
      if (c.transform) {
        expectClose(out.matrix!.flat(), nums(c.transform), rtol, 1e-9);
        return;
      }
      if (model.task === 'classifier') {
        expect(model.classes).toEqual(c.classes);
        expect(out.label).toEqual(c.predict);
        if (c.predict_proba) expectClose(out.probabilities!.flat(), nums(c.predict_proba), rtol, 1e-6);
        else expect(out.probabilities).toBeUndefined();
      } else {
        const got = out.variable ?? out.matrix!.flat();
        expectClose(got, nums(c.predict), rtol, 1e-9);
      }
    });
  },
);
