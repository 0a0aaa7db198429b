// OnnxModel called directly with V2 InferRequests: every ORT datatype through the V2 ⇄ ORT map, input checks
// (dtype, rank, fixed dims) and the documented casts, in-memory ModelProto bytes, model-file discovery, metadata
// and session options. The fixture sweep over the wire is fixtures-wire.test.ts.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type InferContext,
  type InferRequest,
  type InferResponse,
  InvalidInput,
  ModelLoadError,
  tensorFromJson,
  tensorToJson,
} from '@servekit/core';
import { OnnxModel } from '@servekit/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnnxFile } from '../src/onnx-model.js';
import { tensorFromProto } from '../src/proto/tensor-proto.js';
import { identity, TENSOR_TYPES } from './identity-models.js';

const FIX = fileURLToPath(new URL('../../../../shared/fixtures/onnx/', import.meta.url));

const ctx: InferContext = {
  headers: {},
  protocol: 'v2',
  requestId: 'test',
  signal: new AbortController().signal,
};

const loaded: OnnxModel[] = [];
async function load(model: OnnxModel): Promise<OnnxModel> {
  await model.load();
  loaded.push(model);
  return model;
}
afterAll(async () => {
  for (const m of loaded) await m.unload();
});

async function infer(model: OnnxModel, request: InferRequest): Promise<InferResponse> {
  return (await model.predict(request, ctx)) as InferResponse;
}

describe('OnnxModel datatypes', () => {
  it.each(TENSOR_TYPES)(
    'carries %s as V2 %s in metadata and through a run, values unchanged',
    async (elem, dt, values) => {
      const model = await load(new OnnxModel(`id-${elem}`, { modelBytes: identity(elem), execution: 'main' }));
      expect(model.metadata()).toEqual({
        name: `id-${elem}`,
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'x', datatype: dt, shape: [-1, 2] }],
        outputs: [{ name: 'y', datatype: dt, shape: [-1, 2] }],
      });
      const x = { ...tensorFromJson('x', values, dt), shape: [2, 2] };
      const res = await infer(model, { inputs: [x] });
      expect(res.outputs).toHaveLength(1);
      const y = res.outputs[0]!;
      expect({ name: y.name, datatype: y.datatype, shape: y.shape }).toEqual({
        name: 'y',
        datatype: dt,
        shape: [2, 2],
      });
      expect(tensorToJson(y)).toEqual(tensorToJson(x));
    },
  );
});

describe('OnnxModel input checks', () => {
  const fp32 = () => load(new OnnxModel('fp32', { modelBytes: identity('FLOAT', ['N', 3]) }));

  it('rejects a wrong datatype, naming the input, the expected and the received type', async () => {
    const model = await fp32();
    const bad = tensorFromJson('x', [['a', 'b', 'c']], 'BYTES');
    await expect(infer(model, { inputs: [bad] })).rejects.toThrow(InvalidInput);
    await expect(infer(model, { inputs: [bad] })).rejects.toThrow('Input "x": model expects FP32, got BYTES.');
    const bool = tensorFromJson('x', [[true, false, true]], 'BOOL');
    await expect(infer(model, { inputs: [bool] })).rejects.toThrow('model expects FP32, got BOOL');
  });

  it('rejects a wrong rank and a wrong fixed dim, showing the model shape and the received one', async () => {
    const model = await fp32();
    await expect(infer(model, { inputs: [tensorFromJson('x', [1, 2, 3], 'FP32')] })).rejects.toThrow(
      'Input "x": expected rank 2 [-1,3], got shape [3].',
    );
    await expect(infer(model, { inputs: [tensorFromJson('x', [[1, 2]], 'FP32')] })).rejects.toThrow(
      'Input "x": dim 1 must be 3 (model shape [-1,3]), got shape [1,2].',
    );
  });

  it('names the missing and the unknown inputs of a multi-input model', async () => {
    const model = await load(new OnnxModel('add', { modelDir: join(FIX, 'node/test_add_bcast') }));
    const x = tensorFromJson('x', Array(60).fill(1), 'FP32');
    await expect(infer(model, { inputs: [{ ...x, shape: [3, 4, 5] }] })).rejects.toThrow(
      'Model add needs input "y" (FP32 [5]); got "x".',
    );
    const y = tensorFromJson('y', [1, 2, 3, 4, 5], 'FP32');
    const z = tensorFromJson('z', [1], 'FP32');
    await expect(infer(model, { inputs: [{ ...x, shape: [3, 4, 5] }, y, z] })).rejects.toThrow(
      'Model add has no input "z" (inputs: x, y).',
    );
  });

  it('casts FP64 (JSON numbers) to an FP32 input, rounding to float32', async () => {
    const model = await load(new OnnxModel('relu', { modelDir: join(FIX, 'node/test_relu') }));
    const values = Array.from({ length: 60 }, (_, i) => (i - 30) / 7);
    const res = await infer(model, { inputs: [{ ...tensorFromJson('x', values, 'FP64'), shape: [3, 4, 5] }] });
    const y = res.outputs[0]!;
    expect(y.datatype).toBe('FP32');
    expect(Array.from(y.data as Float32Array)).toEqual(Array.from(Float32Array.from(values, (v) => Math.max(v, 0))));
  });

  it('casts INT64 to an INT32 input when every value fits, and names the value that does not', async () => {
    const model = await load(new OnnxModel('equal', { modelDir: join(FIX, 'node/test_equal') }));
    const a = Array.from({ length: 60 }, (_, i) => i - 30);
    const b = a.map((v) => (v % 3 === 0 ? v : v + 1));
    const t = (name: string, v: number[]) => ({ ...tensorFromJson(name, v, 'INT64'), shape: [3, 4, 5] });
    const res = await infer(model, { inputs: [t('x', a), t('y', b)] });
    expect(res.outputs[0]!.datatype).toBe('BOOL');
    expect(Array.from(res.outputs[0]!.data as Uint8Array)).toEqual(a.map((v, i) => Number(v === b[i])));
    const big = [...a.slice(0, 59), 2 ** 31];
    await expect(infer(model, { inputs: [t('x', big), t('y', b)] })).rejects.toThrow(
      `Input "x": value ${2 ** 31} does not fit the model's INT32 input.`,
    );
  });

  it('widens INT32 to an INT64 input', async () => {
    const model = await load(new OnnxModel('i64', { modelBytes: identity('INT64') }));
    const res = await infer(model, { inputs: [tensorFromJson('x', [[1, -2]], 'INT32')] });
    expect(res.outputs[0]!.datatype).toBe('INT64');
    expect(Array.from(res.outputs[0]!.data as BigInt64Array)).toEqual([1n, -2n]);
  });

  it('runs several rows of a batch-1 model one by one and stacks the answers', async () => {
    const model = await load(
      new OnnxModel('fixed', { modelDir: join(FIX, 'sklearn-onnx-2018/SklearnLinearRegression-Dec4') }),
    );
    expect(model.metadata().inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [1, 4] }]);
    const rows = [
      [1, 2, 3, 4],
      [4, 5, 6, 7],
      [-1, 0, 1, 0.5],
    ];
    const name = 'input';
    const all = await infer(model, { inputs: [tensorFromJson(name, rows, 'FP32')] });
    const one = await Promise.all(rows.map((r) => infer(model, { inputs: [tensorFromJson(name, [r], 'FP32')] })));
    expect(all.outputs[0]!.shape[0]).toBe(3);
    expect(Array.from(all.outputs[0]!.data as Float32Array)).toEqual(
      one.flatMap((o) => Array.from(o.outputs[0]!.data as Float32Array)),
    );
  });
});

describe('OnnxModel loading', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'servekit-onnx-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const relu = join(FIX, 'node/test_relu/model.onnx');

  it('finds model.onnx, else the single *.onnx, and names the problem otherwise', async () => {
    const empty = tmp();
    await expect(findOnnxFile(empty)).rejects.toThrow(`no .onnx file in ${empty}`);
    await expect(new OnnxModel('none', { modelDir: empty }).load()).rejects.toThrow(ModelLoadError);
    const single = tmp();
    copyFileSync(relu, join(single, 'relu.onnx'));
    expect(await findOnnxFile(single)).toBe(join(single, 'relu.onnx'));
    copyFileSync(relu, join(single, 'other.onnx'));
    await expect(findOnnxFile(single)).rejects.toThrow('holds several .onnx files (other.onnx, relu.onnx)');
    copyFileSync(relu, join(single, 'model.onnx'));
    expect(await findOnnxFile(single)).toBe(join(single, 'model.onnx'));
  });

  it('turns unreadable bytes and old opsets into load errors naming the model and the cause', async () => {
    const junk = new OnnxModel('junk', { modelBytes: new TextEncoder().encode('not an onnx model') });
    await expect(junk.load()).rejects.toThrow(/^Model junk failed to load: /);
    const old = new OnnxModel('old', { modelDir: join(FIX, 'invalid/pytorch_test_Linear_opset6') });
    await expect(old.load()).rejects.toThrow(/Model old failed to load: .*Gemm\(6\)/);
  });

  it('refuses a map input (DictVectorizer) at load, naming the input', async () => {
    const dv = new OnnxModel('dv', { modelDir: join(FIX, 'sklearn-onnx-2018/SklearnDictVectorizer-OneOff-SkipDim1') });
    await expect(dv.load()).rejects.toThrow(/input "input" is not a tensor \(map or sequence/);
  });

  it('passes session options to onnxruntime: a bad execution provider fails the load, valid options serve', async () => {
    const bogus = new OnnxModel('bogus', { modelPath: relu, sessionOptions: { executionProviders: ['bogus'] } });
    await expect(bogus.load()).rejects.toThrow(/Model bogus failed to load: .*bogus/);
    const tuned = await load(
      new OnnxModel('tuned', {
        modelPath: relu,
        sessionOptions: {
          executionProviders: ['cpu'],
          intraOpNumThreads: 1,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'disabled',
        },
      }),
    );
    const res = await infer(tuned, {
      inputs: [{ ...tensorFromJson('x', Array(60).fill(-1), 'FP32'), shape: [3, 4, 5] }],
    });
    expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual(Array(60).fill(0));
  });

  it('keeps the event loop turning while a worker session runs', async () => {
    const dir = join(FIX, 'real/teams_bgrm');
    const model = await load(new OnnxModel('teams', { modelDir: dir }));
    const input = tensorFromProto(readFileSync(join(dir, 'test_data_set_0/input_0.pb')));
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const res = await infer(model, {
      inputs: [{ ...input, name: model.metadata().inputs[0]!.name }],
    });
    done = true;
    expect(res.outputs.length).toBeGreaterThan(0);
    // A run on the event loop thread would leave no turn between posting the inputs and the answer.
    expect(turns).toBeGreaterThan(1);
  });
});
