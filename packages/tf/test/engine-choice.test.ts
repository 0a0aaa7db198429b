// Engine choice of loadSavedModel / TFModel: `auto` serves a signature on its ONNX lowering when every op maps and
// both engines agree on the load-time probe, else tfjs (with the reason logged); `onnx` and `tfjs` force one.
// The ONNX path keeps the tfjs path's input checks (400s) and answers like it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InferTensor, InvalidInput } from '@servekit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { TFModel } from '../src/model/tf-model.js';
import { unmappedOps } from '../src/onnx/index.js';
import { GraphDefBuilder, seededUniform } from '../src/saved-model/graph-def-builder.js';
import { freezeSavedModel, loadSavedModel, type SavedModelHandle } from '../src/saved-model/load.js';
import { attr } from '../src/saved-model/writer.js';
import { ctx } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'servekit-tf-engine-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A dense net x[-1,16] → dense 32 → ×0.5 + 0.25 → dense 8: ops the first lowering maps (MatMul, BiasAdd, Mul, Add). */
function denseNet(name: string): string {
  const g = new GraphDefBuilder(11);
  const x = g.placeholder('x', [-1, 16]);
  const h = g.dense(x, 32, 'd1');
  const half = g.constFloats('half', [], [0.5]);
  const quarter = g.constFloats('quarter', [], [0.25]);
  const scaled = g.node('Mul', [h.name, half], { T: attr.type(1) }, 'scale');
  const shifted = { name: g.node('Add', [scaled, quarter], { T: attr.type(1) }, 'shift'), shape: h.shape };
  const y = g.dense(shifted, 8, 'd2');
  const dir = join(tmp, name);
  g.write(dir, { x }, { y });
  return dir;
}

/** x[-1,4] → Cumprod(axis 1) → y: an op tfjs runs and the ONNX lowering does not map. */
function cumprodNet(name: string): string {
  const g = new GraphDefBuilder(5);
  const x = g.placeholder('x', [-1, 4]);
  const axis = g.constInts('axis', [], [1]);
  const y = g.node(
    'Cumprod',
    [x.name, axis],
    { T: attr.type(1), Tidx: attr.type(3), exclusive: attr.bool(false), reverse: attr.bool(false) },
    'cumprod',
  );
  const dir = join(tmp, name);
  g.write(dir, { x }, { y: { name: y, shape: [-1, 4] } });
  return dir;
}

/** A Keras-style CNN (conv/BN/relu, depthwise-separable, pools, GAP, dense, softmax), NHWC 16×16×3, batch -1. */
function smallCnn(name: string): string {
  const g = new GraphDefBuilder(4);
  const x = g.placeholder('image', [-1, 16, 16, 3]);
  let h = g.relu(g.batchNorm(g.conv2d(x, { filters: 8, stride: 2 }, 'stem'), 'stem/bn'));
  h = g.pool('MaxPool', h, { size: 3, stride: 1, padding: 'SAME' });
  h = g.add(h, g.relu(g.batchNorm(g.separableConv2d(h, 8, 'sep'), 'sep/bn')));
  h = g.unary('Relu6', g.batchNorm(g.depthwiseConv2d(h, { stride: 2 }, 'dw'), 'dw/bn'));
  const probs = g.unary('Softmax', g.dense(g.globalAvgPool(g.pool('AvgPool', h, { size: 2, stride: 1 })), 5));
  const dir = join(tmp, name);
  g.write(dir, { image: x }, { probs });
  return dir;
}

/** A logger that keeps its lines. */
function recorder() {
  const lines: Array<['info' | 'warn', string]> = [];
  return {
    lines,
    logger: { info: (m: string) => lines.push(['info', m]), warn: (m: string) => lines.push(['warn', m]) },
  };
}

const x3 = (): InferTensor => ({ name: 'x', datatype: 'FP32', shape: [3, 16], data: seededUniform(48, 1, 99) });

async function withHandle<T>(h: SavedModelHandle, fn: (h: SavedModelHandle) => Promise<T>): Promise<T> {
  try {
    return await fn(h);
  } finally {
    await h.dispose();
  }
}

describe('engine choice', () => {
  const dense = denseNet('dense');
  const cumprod = cumprodNet('cumprod');

  it('the fixtures of this file are what they claim: dense maps fully, Cumprod does not', () => {
    const graphOf = (dir: string) => freezeSavedModel(dir).signatures[0]!.graph!;
    expect(unmappedOps(graphOf(dense))).toEqual([]);
    expect(unmappedOps(graphOf(cumprod))).toEqual(['Cumprod']);
  });

  it('auto serves a fully mapped signature on ONNX, logs why, and answers as tfjs within 1e-4', async () => {
    const rec = recorder();
    const onnx = await loadSavedModel(dense, { logger: rec.logger });
    const tfjs = await loadSavedModel(dense, { engine: 'tfjs' });
    try {
      const sig = onnx.signature();
      expect(sig.engine).toBe('onnx');
      expect(sig.engineReason).toMatch(/every op lowers and the probe \(x \[2,16\]\) matches tfjs/);
      expect(rec.lines).toEqual([
        ['info', expect.stringMatching(/^signature "serving_default": onnx \(onnxruntime-node\): every op lowers/)],
      ]);
      expect(tfjs.signature().engine).toBe('tfjs');
      const [a] = await onnx.run(undefined, [x3()]);
      const [b] = await tfjs.run(undefined, [x3()]);
      expect(a!.shape).toEqual([3, 8]);
      expect(a!.datatype).toBe('FP32');
      expect(a!.data).toBeInstanceOf(Float32Array);
      const av = a!.data as Float32Array;
      const bv = b!.data as Float32Array;
      for (let i = 0; i < bv.length; i++)
        expect(Math.abs(av[i]! - bv[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(bv[i]!)));
    } finally {
      await onnx.dispose();
      await tfjs.dispose();
    }
  });

  it('auto serves a Keras-style CNN on ONNX; batch 3 answers equal tfjs within 1e-4', async () => {
    const dir = smallCnn('cnn');
    const onnx = await loadSavedModel(dir);
    const tfjs = await loadSavedModel(dir, { engine: 'tfjs' });
    try {
      expect(onnx.signature().engine).toBe('onnx');
      const image: InferTensor = {
        name: 'image',
        datatype: 'FP32',
        shape: [3, 16, 16, 3],
        data: seededUniform(3 * 16 * 16 * 3, 1, 5),
      };
      const [a] = await onnx.run(undefined, [image]);
      const [b] = await tfjs.run(undefined, [image]);
      expect(a!.shape).toEqual([3, 5]);
      const av = a!.data as Float32Array;
      const bv = b!.data as Float32Array;
      for (let i = 0; i < bv.length; i++)
        expect(Math.abs(av[i]! - bv[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(bv[i]!)));
      expect(new Set(Array.from(av, (v) => v.toFixed(3))).size).toBeGreaterThan(1);
    } finally {
      await onnx.dispose();
      await tfjs.dispose();
    }
  });

  it('auto falls back to tfjs, with a warning naming the signature and the largest difference, when the probe differs', async () => {
    // Bit-identical outputs demanded: onnxruntime and tfjs-wasm sum the 16- and 32-term dot products differently.
    const rec = recorder();
    await withHandle(
      await loadSavedModel(dense, { logger: rec.logger, probeTolerance: { rtol: 0, atol: 0 } }),
      async (h) => {
        expect(h.signature().engine).toBe('tfjs');
        expect(rec.lines).toHaveLength(1);
        const [level, line] = rec.lines[0]!;
        expect(level).toBe('warn');
        expect(line).toMatch(
          /^signature "serving_default": tfjs: the ONNX path differs from tfjs on the probe \(x \[2,16\]\) beyond 0 relative \+ 0 absolute: output "y"\[\d+\]: onnx \S+ vs tfjs \S+ \(\|diff\| \d\.\d\de-\d+/,
        );
        const [y] = await h.run(undefined, [x3()]);
        expect(y!.shape).toEqual([3, 8]);
      },
    );
  });

  it('auto serves a signature with an op the lowering lacks on tfjs and says which op', async () => {
    const rec = recorder();
    await withHandle(await loadSavedModel(cumprod, { logger: rec.logger }), async (h) => {
      expect(h.signature().engine).toBe('tfjs');
      expect(rec.lines).toEqual([
        ['info', 'signature "serving_default": tfjs: cannot lower to ONNX: no ONNX lowering for op Cumprod'],
      ]);
      const [y] = await h.run(undefined, [
        { name: 'x', datatype: 'FP32', shape: [1, 4], data: Float32Array.of(1, 2, 3, 4) },
      ]);
      expect(Array.from(y!.data as Float32Array)).toEqual([1, 2, 6, 24]);
    });
  });

  it('onnx forced: a signature that cannot be lowered is unservable, ops named; tfjs forced serves it', async () => {
    await expect(loadSavedModel(cumprod, { engine: 'onnx' })).rejects.toThrow(
      /no signature can be served \("serving_default": cannot lower to ONNX: no ONNX lowering for op Cumprod\)/,
    );
    const model = new TFModel('cp', cumprod, { engine: 'onnx' });
    await expect(model.load()).rejects.toThrow(/Cumprod/);
    await withHandle(await loadSavedModel(cumprod, { engine: 'tfjs' }), async (h) => {
      expect(h.signature()).toMatchObject({ engine: 'tfjs', engineReason: 'forced' });
    });
  });

  it('onnx forced passes the session options to onnxruntime (a bad execution provider is its error)', async () => {
    await withHandle(
      await loadSavedModel(dense, { engine: 'onnx', sessionOptions: { intraOpNumThreads: 1 } }),
      async (h) => {
        expect(h.signature()).toMatchObject({ engine: 'onnx', engineReason: 'forced' });
      },
    );
    await expect(
      loadSavedModel(dense, { engine: 'onnx', sessionOptions: { executionProviders: ['no-such-provider'] } }),
    ).rejects.toThrow(/onnxruntime cannot load its ONNX lowering: .*no-such-provider/);
  });

  it('the ONNX path keeps the input checks: unknown, missing, wrong datatype and wrong shape are 400s', async () => {
    await withHandle(await loadSavedModel(dense, { engine: 'onnx' }), async (h) => {
      const bad = (inputs: InferTensor[]) => h.run(undefined, inputs);
      await expect(bad([{ ...x3(), name: 'z' }])).rejects.toThrow(InvalidInput);
      await expect(bad([{ ...x3(), name: 'z' }])).rejects.toThrow(/has no input "z" \(inputs: x\)/);
      await expect(bad([])).rejects.toThrow(/needs input "x"/);
      await expect(bad([{ name: 'x', datatype: 'INT32', shape: [1, 16], data: new Int32Array(16) }])).rejects.toThrow(
        /Input "x" is INT32; signature "serving_default" expects FP32/,
      );
      const wrongShape = bad([{ name: 'x', datatype: 'FP32', shape: [2, 8], data: new Float32Array(16) }]);
      await expect(wrongShape).rejects.toThrow(InvalidInput);
      await expect(bad([{ name: 'x', datatype: 'FP32', shape: [2, 8], data: new Float32Array(16) }])).rejects.toThrow(
        /cannot run on x \[2,8\] \(declared: x \[-1,16\]\)/,
      );
    });
  });

  it('TFModel reports the engines in the V2 metadata parameters and prefixes its log lines with the model', async () => {
    const rec = recorder();
    const model = new TFModel('dense', dense, { logger: rec.logger });
    await model.load();
    try {
      expect(model.metadata()).toMatchObject({
        platform: 'tensorflow_savedmodel',
        parameters: { signature_name: 'serving_default', engine: 'onnx', signature_engines: 'serving_default=onnx' },
      });
      expect(rec.lines[0]![1]).toMatch(/^model "dense": signature "serving_default": onnx/);
      const res = await model.predict({ inputs: [x3()] }, ctx());
      expect((res as { outputs: InferTensor[] }).outputs[0]!.shape).toEqual([3, 8]);
    } finally {
      await model.unload();
    }
  });
});
