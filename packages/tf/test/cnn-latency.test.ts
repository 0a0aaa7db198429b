import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { InferTensor } from '@servekit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSavedModel } from '../src/saved-model/load.js';
import { attr, type NodeSpec, writeSavedModel } from '../src/saved-model/writer.js';

const F = 1;
const tmp = mkdtempSync(join(tmpdir(), 'servekit-tf-cnn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Deterministic pseudo-random numbers in [-scale, scale). */
function rand(n: number, scale: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

/**
 * A Keras-style CNN as a frozen GraphDef (NHWC): [conv3x3 → BN → relu] ×2 with max-pool, a depthwise-separable
 * block, global average pool, dense 128 → dense 10 → softmax. Random weights, 64×64×3 input.
 */
function buildCnn(dir: string): void {
  const nodes: NodeSpec[] = [
    { name: 'image', op: 'Placeholder', attr: { dtype: attr.type(F), shape: attr.shape([-1, 64, 64, 3]) } },
  ];
  let seed = 1;
  const konst = (name: string, shape: number[], scale: number): string => {
    nodes.push({
      name,
      op: 'Const',
      attr: {
        dtype: attr.type(F),
        value: attr.floats(
          shape,
          rand(
            shape.reduce((a, b) => a * b, 1),
            scale,
            seed++,
          ),
        ),
      },
    });
    return name;
  };
  const nhwc = { data_format: attr.str('NHWC') };
  /** Stride-1 SAME NHWC attrs of the Conv2D and DepthwiseConv2dNative nodes. */
  const sameConvAttrs = {
    T: attr.type(F),
    strides: attr.ints([1, 1, 1, 1]),
    padding: attr.str('SAME'),
    dilations: attr.ints([1, 1, 1, 1]),
    ...nhwc,
  };
  let x = 'image';
  let ch = 3;
  const convBnRelu = (name: string, out: number): void => {
    const w = konst(`${name}/kernel`, [3, 3, ch, out], Math.sqrt(2 / (9 * ch)));
    nodes.push({
      name: `${name}/conv`,
      op: 'Conv2D',
      input: [x, w],
      attr: sameConvAttrs,
    });
    const bn = ['gamma', 'beta', 'mean', 'var'].map((p, i) => {
      const n = `${name}/bn/${p}`;
      nodes.push({
        name: n,
        op: 'Const',
        attr: {
          dtype: attr.type(F),
          value: attr.floats(
            [out],
            rand(out, 0.1, seed++).map((v) => (i === 0 || i === 3 ? 1 + v : v)),
          ),
        },
      });
      return n;
    });
    nodes.push({
      name: `${name}/bn`,
      op: 'FusedBatchNormV3',
      input: [`${name}/conv`, ...bn],
      attr: { T: attr.type(F), U: attr.type(F), epsilon: { f: 0.001 }, is_training: attr.bool(false), ...nhwc },
    });
    nodes.push({ name: `${name}/relu`, op: 'Relu', input: [`${name}/bn`], attr: { T: attr.type(F) } });
    x = `${name}/relu`;
    ch = out;
  };
  const pool = (name: string): void => {
    nodes.push({
      name,
      op: 'MaxPool',
      input: [x],
      attr: {
        T: attr.type(F),
        ksize: attr.ints([1, 2, 2, 1]),
        strides: attr.ints([1, 2, 2, 1]),
        padding: attr.str('VALID'),
        ...nhwc,
      },
    });
    x = name;
  };
  convBnRelu('block1a', 32);
  convBnRelu('block1b', 32);
  pool('pool1');
  convBnRelu('block2a', 64);
  pool('pool2');
  const dw = konst('sep/depthwise_kernel', [3, 3, ch, 1], 0.3);
  nodes.push({
    name: 'sep/depthwise',
    op: 'DepthwiseConv2dNative',
    input: [x, dw],
    attr: sameConvAttrs,
  });
  x = 'sep/depthwise';
  convBnRelu('sep/pointwise', 128);
  nodes.push({ name: 'gap/axes', op: 'Const', attr: { dtype: attr.type(3), value: attr.intTensor([2], [1, 2]) } });
  nodes.push({
    name: 'gap',
    op: 'Mean',
    input: [x, 'gap/axes'],
    attr: { T: attr.type(F), Tidx: attr.type(3), keep_dims: attr.bool(false) },
  });
  x = 'gap';
  const dense = (name: string, out: number): void => {
    const w = konst(`${name}/kernel`, [ch, out], Math.sqrt(1 / ch));
    const b = konst(`${name}/bias`, [out], 0.05);
    nodes.push({
      name: `${name}/matmul`,
      op: 'MatMul',
      input: [x, w],
      attr: { T: attr.type(F), transpose_a: attr.bool(false), transpose_b: attr.bool(false) },
    });
    nodes.push({
      name: `${name}/bias_add`,
      op: 'BiasAdd',
      input: [`${name}/matmul`, b],
      attr: { T: attr.type(F), ...nhwc },
    });
    x = `${name}/bias_add`;
    ch = out;
  };
  dense('fc1', 128);
  nodes.push({ name: 'fc1/relu', op: 'Relu', input: [x], attr: { T: attr.type(F) } });
  x = 'fc1/relu';
  dense('logits', 10);
  nodes.push({ name: 'probs', op: 'Softmax', input: [x], attr: { T: attr.type(F) } });
  writeSavedModel(dir, {
    nodes,
    signatures: {
      serving_default: {
        inputs: { image: ['image:0', F, [-1, 64, 64, 3]] },
        outputs: { probs: ['probs:0', F, [-1, 10]] },
      },
    },
  });
}

/** Batch sizes measured (kept small: tfjs-cpu needs ~200 ms per image). */
const BATCHES = [1, 2];

const image = (batch: number): InferTensor => ({
  name: 'image',
  datatype: 'FP32',
  shape: [batch, 64, 64, 3],
  data: Float32Array.from(rand(batch * 64 * 64 * 3, 1, 99)),
});

describe('Keras-CNN-sized graph on wasm vs cpu', () => {
  const dir = join(tmp, 'cnn');
  buildCnn(dir);

  it('both backends agree (1e-4) and per-request latency is reported', async () => {
    const results: Record<string, number[]> = {};
    const timings: string[] = [];
    let params = 0;
    for (const backend of ['wasm', 'cpu'] as const) {
      const h = await loadSavedModel(dir, { backend });
      params = h
        .frozenGraph('serving_default')!
        .nodes.filter((n) => n.op === 'Const')
        .reduce((a, n) => a + n.value!.shape.reduce((x, y) => x * y, 1), 0);
      for (const batch of BATCHES) {
        const input = image(batch);
        const [first] = await h.run(undefined, [input]); // warm-up (kernel compilation, weight upload)
        results[`${backend}/${batch}`] = Array.from(first!.data as Float32Array);
        expect(first!.shape).toEqual([batch, 10]);
        const n = backend === 'cpu' ? 2 : 10;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await h.run(undefined, [input]);
        timings.push(`${backend} batch ${batch}: ${((performance.now() - t0) / n).toFixed(2)} ms/request`);
      }
      h.dispose();
    }
    console.log(`[tf cnn latency, 64x64x3 input, ${params} weights]\n  ${timings.join('\n  ')}`);
    for (const batch of BATCHES) {
      const w = results[`wasm/${batch}`]!;
      const c = results[`cpu/${batch}`]!;
      w.forEach((v, i) => {
        expect(Math.abs(v - c[i]!)).toBeLessThanOrEqual(1e-4);
      });
      for (let r = 0; r < batch; r++) expect(w.slice(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
  });
});
