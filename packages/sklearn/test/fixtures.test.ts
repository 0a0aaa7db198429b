import { describe, expect, it } from 'vitest';
import { loadSklearnModel } from '../src/index.js';
import { expectClose, fixture, readJson, runModel } from './helpers.js';

interface Expected {
  inputs: unknown[];
  predict: (number | string)[];
  predict_proba?: number[][];
}

describe('churn: Pipeline(DictVectorizer, LogisticRegression)', () => {
  it('answers raw customer dicts exactly as sklearn (predict, predict_proba)', async () => {
    const exp = readJson<Expected & { vectorized_inputs: number[][] }>(fixture('sklearn/churn/expected.json'));
    const model = await loadSklearnModel(fixture('sklearn/churn/model.joblib'));
    expect(model.inputs.kind).toBe('dicts');
    expect(model.classes).toEqual([0, 1]);
    expectClose(model.encoder.vectorize(exp.inputs), exp.vectorized_inputs.flat(), 0, 0);
    const out = await runModel(model, model.encoder.encodeInstances(exp.inputs));
    expect(out.label).toEqual(exp.predict);
    expectClose(out.probabilities!.flat(), exp.predict_proba!.flat(), 1e-6);
  });
});

const LINEAR = 1e-6;
const TREES = 1e-4;
const cases: [string, number][] = [
  ['sklearn/iris_logreg', LINEAR],
  ['sklearn/iris_decision_tree', TREES],
  ['sklearn/iris_random_forest', TREES],
  ['sklearn/iris_gradient_boosting', TREES],
  ['sklearn/diabetes_random_forest_regressor', TREES],
];

describe.each(cases)('%s', (dir, rtol) => {
  it('matches expected.json (predict, predict_proba)', async () => {
    const exp = readJson<Expected>(fixture(`${dir}/expected.json`));
    const model = await loadSklearnModel(fixture(`${dir}/model.joblib`));
    const out = await runModel(model, model.encoder.encodeInstances(exp.inputs));
    if (model.task === 'classifier') {
      expect(out.label).toEqual(exp.predict);
      expectClose(out.probabilities!.flat(), exp.predict_proba!.flat(), rtol, 1e-7);
    } else {
      expectClose(out.variable!, exp.predict as number[], rtol);
    }
  });
});

describe('kserve-examples/sklearn_svc_iris: SVC(probability=True), sklearn 1.3.2 pickle', () => {
  it('matches the Debian sklearn outputs and the KServe test', async () => {
    const exp = readJson<{ debian_library_outputs: Expected; kserve_test: { request_v1: { instances: number[][] } } }>(
      fixture('kserve-examples/sklearn_svc_iris/expected.json'),
    );
    const model = await loadSklearnModel(fixture('kserve-examples/sklearn_svc_iris/model.joblib'));
    const lib = exp.debian_library_outputs;
    const out = await runModel(model, model.encoder.encodeInstances(lib.inputs));
    expect(out.label).toEqual(lib.predict);
    expectClose(out.probabilities!.flat(), lib.predict_proba!.flat(), 1e-4, 1e-6);
    const v1 = await runModel(model, model.encoder.encodeInstances(exp.kserve_test.request_v1.instances));
    expect(v1.label).toEqual([0]);
  });
});

describe('kserve-examples/sklearn_mixedtype_pipeline: ColumnTransformer + SGDRegressor', () => {
  it('answers KServe V1 column-dict instances and per-column inputs like sklearn', async () => {
    const exp = readJson<{
      kserve_test: { request_v1: { instances: Record<string, unknown[]>[] }; response_v1: { predictions: number[] } };
      debian_library_outputs: { input_dataframe: Record<string, unknown[]>; predict: number[] };
    }>(fixture('kserve-examples/sklearn_mixedtype_pipeline/expected.json'));
    const model = await loadSklearnModel(fixture('kserve-examples/sklearn_mixedtype_pipeline/model.joblib'));
    expect(model.inputs.kind).toBe('columns');
    const v1 = await runModel(model, model.encoder.encodeInstances(exp.kserve_test.request_v1.instances));
    expectClose(v1.variable!, exp.kserve_test.response_v1.predictions, 1e-6);
    const cols = await runModel(model, model.encoder.encodeColumns(exp.debian_library_outputs.input_dataframe));
    expectClose(cols.variable!, exp.debian_library_outputs.predict, 1e-6);
  });
});
