import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferRequest, InferResponse, V1Response } from '@servekit/core';
import { InvalidInput, ModelLoadError, NotImplemented } from '@servekit/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { TfjsBackendName } from '../src/engine/tfjs-engine.js';
import { TFModel, tfModelsFromDir } from '../src/model/tf-model.js';
import { loadSavedModel } from '../src/saved-model/load.js';
import { copyFixture, ctx, fixture, numbers, type TensorCase, tensorCases, tensorFromCase } from './helpers.js';

const loaded = new Map<string, TFModel>();
async function model(name: string, backend: TfjsBackendName): Promise<TFModel> {
  const key = `${name}@${backend}`;
  let m = loaded.get(key);
  if (m === undefined) {
    // The tfjs engine on both backends (the ONNX path has its own tests: engine-choice, tensorflow-onnx-wire).
    m = new TFModel(name, fixture(name), { backend, engine: 'tfjs' });
    await m.load();
    loaded.set(key, m);
  }
  return m;
}
afterAll(() => {
  for (const m of loaded.values()) m.unload();
});

describe.each(['wasm', 'cpu'] as const)('expected.json cases on %s', (backend) => {
  it.each(tensorCases)('$label', async ({ name, c }) => {
    const m = await model(name, backend);
    const req: InferRequest = {
      id: 'r1',
      parameters: { signature_name: c.signature! },
      inputs: Object.entries(c.inputs!).map(([k, v]) => tensorFromCase(k, v as TensorCase)),
    };
    const res = (await m.predict(req, ctx())) as InferResponse;
    expect(res.id).toBe('r1');
    expect(res.outputs.map((o) => o.name).sort()).toEqual(Object.keys(c.outputs!).sort());
    for (const [key, want] of Object.entries(c.outputs!)) {
      const got = res.outputs.find((o) => o.name === key)!;
      if (want.shape !== undefined) expect(got.shape).toEqual(want.shape);
      const tol = c.tolerance ?? 1e-6;
      numbers(got).forEach((v, i) => {
        expect(Math.abs(v - want.data[i]!)).toBeLessThanOrEqual(tol);
      });
      expect(numbers(got)).toHaveLength(want.data.length);
    }
  });
});

describe('dtypes', () => {
  it('returns INT64 as BigInt64Array and takes UINT8 input', async () => {
    const i64 = await model('tfjs_int64_multiply', 'wasm');
    const r = (await i64.predict(
      { inputs: [{ name: 'x', datatype: 'INT64', shape: [2], data: BigInt64Array.from([3n, 4n]) }] },
      ctx(),
    )) as InferResponse;
    expect(r.outputs[0]!.datatype).toBe('INT64');
    expect(Array.from(r.outputs[0]!.data as BigInt64Array)).toEqual([18n, 24n]);
    await expect(
      i64.predict(
        { inputs: [{ name: 'x', datatype: 'INT64', shape: [1], data: BigInt64Array.from([1n << 40n]) }] },
        ctx(),
      ),
    ).rejects.toThrow(/does not fit the engine's 32-bit integers/);
    const u8 = await model('tfjs_uint8_multiply', 'wasm');
    const r8 = (await u8.predict(
      { inputs: [{ name: 'x', datatype: 'UINT8', shape: [1], data: Uint8Array.of(3) }] },
      ctx(),
    )) as InferResponse;
    expect(r8.outputs[0]).toMatchObject({ name: 'output_0', datatype: 'INT32', shape: [1] });
    expect(numbers(r8.outputs[0]!)).toEqual([18]);
  });

  it('rejects a datatype that differs from the signature', async () => {
    const m = await model('tfjs_times_two_int', 'wasm');
    await expect(
      m.predict({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: Float32Array.of(1) }] }, ctx()),
    ).rejects.toThrow(InvalidInput);
  });
});

describe('TF Serving REST (V1) semantics', () => {
  it('row format: instances → predictions (half_plus_two)', async () => {
    const m = await model('serving_half_plus_two_cpu', 'wasm');
    expect(await m.predict({ instances: [2.0, 3.0, 4.0] }, ctx('v1'))).toEqual({ predictions: [3.0, 3.5, 4.0] });
    expect(await m.predict({ instances: [[2.0], [3.0]] }, ctx('v1'))).toEqual({ predictions: [[3.0], [3.5]] });
    expect(await m.predict({ instances: [{ x: [2.0] }] }, ctx('v1'))).toEqual({ predictions: [[3.0]] });
  });

  it('columnar format: inputs → outputs', async () => {
    const m = await model('serving_half_plus_two_cpu', 'wasm');
    expect(await m.predict({ inputs: [2.0, 3.0, 4.0] }, ctx('v1'))).toEqual({ outputs: [3.0, 3.5, 4.0] });
    expect(await m.predict({ inputs: { x: [[1.0]] } }, ctx('v1'))).toEqual({ outputs: [[2.5]] });
  });

  it('picks a signature from the body or parameters', async () => {
    const m = await model('serving_half_plus_two_cpu', 'wasm');
    // regress_x2_to_y3: y3 = 0.5 * x2 + 3, its input key is "inputs".
    expect(await m.predict({ signature_name: 'regress_x2_to_y3', instances: [2.0] }, ctx('v1'))).toEqual({
      predictions: [4.0],
    });
    expect(await m.predict({ parameters: { signature_name: 'regress_x2_to_y3' }, inputs: [2.0] }, ctx('v1'))).toEqual({
      outputs: [4.0],
    });
    await expect(m.predict({ signature_name: 'nope', instances: [1] }, ctx('v1'))).rejects.toThrow(
      /Signature "nope" not found; the model has: serving_default/,
    );
  });

  it('multi-input rows and multi-output rows/columns', async () => {
    const m = await model('tfjs_model_multi_output', 'wasm');
    expect(
      await m.predict(
        {
          instances: [
            { x: 1, y: 5 },
            { x: 2, y: 6 },
          ],
        },
        ctx('v1'),
      ),
    ).toEqual({
      predictions: [
        { output_0: 2, output_1: 5 },
        { output_0: 4, output_1: 6 },
      ],
    });
    expect(await m.predict({ inputs: { x: [1, 2, 3], y: [1, 2, 3] } }, ctx('v1'))).toEqual({
      outputs: { output_0: [2, 4, 6], output_1: [1, 2, 3] },
    });
    await expect(m.predict({ instances: [{ x: 1 }] }, ctx('v1'))).rejects.toThrow(/lacks input "y"/);
  });

  it('Keras multi-input model over V1 rows', async () => {
    const m = await model('tfrust_keras_multiple_inputs', 'wasm');
    const res = (await m.predict(
      { instances: [{ test_in1: [0.1, 0.2, 0.3, 0.4, 0.5], test_in2: [0.6, 0.7, 0.8, 0.9, 0.1] }] },
      ctx('v1'),
    )) as V1Response;
    const [[v]] = res.predictions as number[][];
    expect(Math.abs(v! - 0.5401027)).toBeLessThan(1e-6);
  });

  it('input-less signatures answer columnar requests', async () => {
    const m = await model('tfrust_regression', 'wasm');
    const w = (await m.predict({ signature_name: 'w', inputs: {} }, ctx('v1'))) as V1Response;
    expect(Math.abs((w.outputs as number[])[0]! - 0.2042975)).toBeLessThan(1e-6);
    expect(await m.predict({ signature_name: 'b', instances: [] }, ctx('v1'))).toEqual({ predictions: [0] });
  });

  it('rejects bodies with neither or both formats', async () => {
    const m = await model('serving_half_plus_two_cpu', 'wasm');
    await expect(m.predict({}, ctx('v1'))).rejects.toThrow(/exactly one of "instances"/);
    await expect(m.predict({ instances: [[1], [2, 3]] }, ctx('v1'))).rejects.toThrow(/ragged/);
  });
});

describe('signatures that cannot be served are refused; pure ones still work', () => {
  it('serving_counter: get_counter works, the mutating signatures are refused naming the op', async () => {
    const m = await model('serving_counter', 'wasm');
    const sigs = m.savedModel.signatures;
    expect(sigs.find((s) => s.name === 'get_counter')?.unservable).toBeUndefined();
    for (const name of ['incr_counter', 'incr_counter_by', 'reset_counter']) {
      expect(sigs.find((s) => s.name === name)?.unservable).toMatch(/updates variables \(op Assign(Add)?, node/);
    }
    expect(await m.predict({ signature_name: 'get_counter', inputs: {} }, ctx('v1'))).toEqual({ outputs: 0 });
    const refused = m.predict({ parameters: { signature_name: 'incr_counter' }, inputs: [] }, ctx());
    await expect(refused).rejects.toThrow(NotImplemented);
    await expect(refused).rejects.toThrow(
      /Signature "incr_counter" cannot be served: it updates variables \(op AssignAdd/,
    );
    // No default signature: requests must name one.
    await expect(m.predict({ inputs: {} }, ctx('v1'))).rejects.toThrow(
      /has no "serving_default" signature; name one of/,
    );
  });

  it('tfrust_regression: train is refused, w and b work', async () => {
    const m = await model('tfrust_regression', 'wasm');
    await expect(
      m.predict(
        {
          parameters: { signature_name: 'train' },
          inputs: [
            { name: 'x', datatype: 'FP32', shape: [1], data: Float32Array.of(1) },
            { name: 'y', datatype: 'FP32', shape: [1], data: Float32Array.of(1) },
          ],
        },
        ctx(),
      ),
    ).rejects.toThrow(/Signature "train" cannot be served: it updates variables \(op \w+/);
    const w = (await m.predict({ parameters: { signature_name: 'w' }, inputs: [] }, ctx())) as InferResponse;
    expect(Math.abs(numbers(w.outputs[0]!)[0]! - 0.2042975)).toBeLessThan(1e-6);
  });

  it('tf.Example signatures are refused naming ParseExample', async () => {
    const m = await model('serving_half_plus_two_cpu', 'wasm');
    const info = m.savedModel.signatures.find((s) => s.name === 'classify_x_to_y');
    expect(info?.unservable).toMatch(
      /parses serialized tf\.Example protos \(op ParseExample, node "ParseExample\/ParseExample"\)/,
    );
    const tf2 = await model('serving_half_plus_two_tf2_cpu', 'wasm');
    expect(tf2.savedModel.signatures.find((s) => s.name === 'regress_x_to_y')?.unservable).toMatch(/op ParseExampleV2/);
    // The TF2 model's pure signatures still work.
    const r = (await tf2.predict(
      {
        parameters: { signature_name: 'regress_x2_to_y3' },
        inputs: [{ name: 'inputs', datatype: 'FP32', shape: [1], data: Float32Array.of(2) }],
      },
      ctx(),
    )) as InferResponse;
    expect(numbers(r.outputs[0]!)).toEqual([4]);
  });
});

describe('metadata and layout', () => {
  it('V2 metadata comes from the SignatureDef (names, datatypes, -1 dims)', async () => {
    const m = await model('serving_half_plus_two_cpu', 'wasm');
    expect(m.metadata()).toEqual({
      name: 'serving_half_plus_two_cpu',
      platform: 'tensorflow_savedmodel',
      versions: ['123'],
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
      parameters: {
        signature_name: 'serving_default',
        engine: 'tfjs',
        signature_engines:
          'serving_default=tfjs,classify_x_to_y=unservable,regress_x_to_y2=unservable,regress_x_to_y=unservable,regress_x2_to_y3=tfjs',
      },
    });
    const k = await model('tfrust_keras_multiple_inputs', 'wasm');
    expect(k.metadata().inputs).toEqual([
      { name: 'test_in1', datatype: 'FP32', shape: [-1, 5] },
      { name: 'test_in2', datatype: 'FP32', shape: [-1, 5] },
    ]);
  });

  it('numeric version folders become versions, newest first by default', async () => {
    const versions = tfModelsFromDir('hpt', fixture('serving_half_plus_two_2_versions'));
    expect(versions.map((v) => v.version)).toEqual(['123', '124']);
    const h = await loadSavedModel(fixture('serving_half_plus_two_2_versions'));
    expect(h.version).toBe('124');
    const old = await loadSavedModel(fixture('serving_half_plus_two_2_versions'), { version: '123' });
    expect(old.version).toBe('123');
    const [y] = await old.run(undefined, [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(4) }]);
    expect(numbers(y!)).toEqual([4]);
    h.dispose();
    old.dispose();
    const bare = tfModelsFromDir('bare', fixture('tfjs_times_two_int'));
    expect(bare).toHaveLength(1);
    expect(bare[0]!.version).toBeUndefined();
  });
});

describe('load errors', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'servekit-tf-load-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a truncated saved_model.pb fails with a ModelLoadError naming the file', async () => {
    const dir = copyFixture('tfrust_keras_single_input', join(tmp, 'truncated'));
    const pb = join(dir, 'saved_model.pb');
    const bytes = readFileSync(pb);
    writeFileSync(pb, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const m = new TFModel('t', dir, { backend: 'cpu' });
    const err = await m.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/saved_model\.pb is not a valid SavedModel \(truncated or corrupt protobuf/);
    expect(m.ready).toBe(false);
  });

  it('a directory without a SavedModel fails clearly', async () => {
    await expect(new TFModel('none', tmp).load()).rejects.toThrow(
      /neither saved_model\.pb nor numeric version folders/,
    );
  });
});
