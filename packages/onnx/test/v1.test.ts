// V1 (`instances`) on ONNX models: rows, dict rows for one-input-per-feature pipelines, fixed batch-1 models,
// labels by default and probabilities with the option or the per-request `predict_proba` parameter.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelServer } from '@servekit/core';
import { OnnxModel } from '@servekit/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FIX = fileURLToPath(new URL('../../../../shared/fixtures/onnx/', import.meta.url));

describe('OnnxModel V1', () => {
  let server: ModelServer;
  let base: string;
  beforeAll(async () => {
    server = new ModelServer({
      httpPort: 0,
      host: '127.0.0.1',
      enableGrpc: false,
      logLevel: 'silent',
      defaultMetrics: false,
    });
    await server.start([
      new OnnxModel('iris', { modelDir: join(FIX, 'sklearn-onnx-docs/logreg_iris') }),
      new OnnxModel('iris-proba', { modelDir: join(FIX, 'sklearn-onnx-docs/logreg_iris'), predictProba: true }),
      new OnnxModel('titanic', { modelDir: join(FIX, 'sklearn-onnx-docs/pipeline_titanic') }),
      new OnnxModel('fixed', { modelDir: join(FIX, 'sklearn-onnx-2018/SklearnLinearRegression-Dec4') }),
      new OnnxModel('fixed-regressor-proba', {
        modelDir: join(FIX, 'sklearn-onnx-2018/SklearnLinearRegression-Dec4'),
        predictProba: true,
      }),
      new OnnxModel('mixed', { modelDir: join(FIX, 'sklearn-onnx-2018/SklearnPipelineScalerMixed-OneOff') }),
    ]);
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  afterAll(() => server.stop());

  const infer = async (model: string, body: unknown) => {
    const res = await fetch(`${base}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify(body) });
    return {
      status: res.status,
      body: (await res.json()) as {
        outputs?: Array<{ name: string; shape: number[]; data: number[] }>;
        error?: string;
      },
    };
  };

  const predict = async (model: string, body: unknown) => {
    const res = await fetch(`${base}/v1/models/${model}:predict`, { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { predictions?: unknown[]; error?: string } };
  };

  it('answers rows with labels, and with probabilities when asked per request or by option', async () => {
    const rows = [
      [5.1, 3.5],
      [7.0, 3.2],
    ];
    expect((await predict('iris', { instances: rows })).body.predictions).toEqual([0, 2]);
    const perRequest = (await predict('iris', { instances: rows, parameters: { predict_proba: true } })).body
      .predictions as number[][];
    expect(perRequest).toHaveLength(2);
    expect(perRequest[0]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect((await predict('iris-proba', { instances: rows })).body.predictions).toEqual(perRequest);
  });

  it('maps dict rows onto one input per feature (titanic pipeline with string inputs)', async () => {
    const passengers = [
      { pclass: '3', sex: 'male', age: 22, fare: 7.25, embarked: 'S' },
      { pclass: '1', sex: 'female', age: 38, fare: 71.2833, embarked: 'C' },
      { pclass: '3', sex: 'female', age: 26, fare: 7.925, embarked: 'S' },
      { pclass: '1', sex: 'male', age: 54, fare: 51.8625, embarked: 'S' },
    ];
    expect((await predict('titanic', { instances: passengers })).body.predictions).toEqual([0, 1, 1, 0]);
    const missing = await predict('titanic', { instances: [{ pclass: '3' }] });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/has no "sex"/);
  });

  it('runs several instances through a model whose batch dim is fixed to 1, row by row', async () => {
    const res = await predict('fixed', {
      instances: [
        [1, 2, 3, 4],
        [0, 0, 0, 0],
        [1, 1, 1, 1],
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.predictions).toHaveLength(3);
  });

  it('rejects a wrong feature count with a 400 naming the input and the expected shape', async () => {
    const res = await predict('iris', { instances: [[1, 2, 3]] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/Input "X": dim 1 must be 2/);
  });
  it('answers the V2 parameter predict_proba with the probabilities tensor only', async () => {
    const input = { name: 'X', datatype: 'FP32', shape: [2, 2], data: [5.1, 3.5, 7.0, 3.2] };
    const both = await infer('iris', { inputs: [input] });
    expect(both.body.outputs!.map((o) => o.name)).toEqual(['output_label', 'output_probability']);
    const proba = await infer('iris', { inputs: [input], parameters: { predict_proba: true } });
    expect(proba.body.outputs!.map((o) => o.name)).toEqual(['output_probability']);
    expect(proba.body.outputs![0]!.shape).toEqual([2, 3]);
    expect(proba.body.outputs![0]!.data).toEqual(both.body.outputs![1]!.data);
  });

  it('keeps regressors answering values under the server-wide predict_proba option; per request it is a 400', async () => {
    const rows = [
      [1, 2, 3, 4],
      [0, 0, 0, 0],
    ];
    const plain = await predict('fixed', { instances: rows });
    expect((await predict('fixed-regressor-proba', { instances: rows })).body.predictions).toEqual(
      plain.body.predictions,
    );
    const asked = await predict('fixed', { instances: rows, parameters: { predict_proba: true } });
    expect(asked.status).toBe(400);
    expect(asked.body.error).toMatch(/no probabilities output/);
  });

  it('runs a fixed-batch model with two inputs row by row, and refuses inputs with different row counts', async () => {
    const two = await infer('mixed', {
      inputs: [
        { name: 'input1', datatype: 'INT64', shape: [2, 1], data: [1, 3] },
        { name: 'input2', datatype: 'FP32', shape: [2, 1], data: [0.5, 2] },
      ],
    });
    expect(two.status).toBe(200);
    const one = await infer('mixed', {
      inputs: [
        { name: 'input1', datatype: 'INT64', shape: [1, 1], data: [3] },
        { name: 'input2', datatype: 'FP32', shape: [1, 1], data: [2] },
      ],
    });
    expect(two.body.outputs![0]!.shape).toEqual([2, 2]);
    expect(two.body.outputs![0]!.data.slice(2)).toEqual(one.body.outputs![0]!.data);
    const bad = await infer('mixed', {
      inputs: [
        { name: 'input1', datatype: 'INT64', shape: [2, 1], data: [1, 3] },
        { name: 'input2', datatype: 'FP32', shape: [1, 1], data: [0.5] },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/same number of rows/);
  });
});
