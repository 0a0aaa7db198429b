// Generate the weight-bound benchmark MLP (256→2048→2048→10, random weights, ~19 MB) with servekit's own
// ONNX graph builder, into bench/out/ (not committed). Same graph as fixtures/_generators/gen_bench_onnx.py --big.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attr, GraphBuilder } from '@servekit/onnx';
import { ROOT } from './servers.mjs';

/** Deterministic normal-ish random numbers (sum of uniforms from an LCG), scaled. */
function randn(n, scale, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < n; i++) out[i] = (u() + u() + u() + u() - 2) * 1.7320508 * scale;
  return out;
}

/** Write bench/out/mlp_big/model.onnx and return its directory. */
export function generateBigMlp() {
  const g = new GraphBuilder('mlp_big');
  g.input('input', 'FLOAT', ['N', 256]);
  const layers = [
    [256, 2048, 0.05],
    [2048, 2048, 0.02],
    [2048, 10, 0.05],
  ];
  let x = 'input';
  layers.forEach(([inDim, outDim, scale], i) => {
    const w = g.constant(`w${i + 1}`, {
      type: 'FLOAT',
      dims: [outDim, inDim],
      values: randn(outDim * inDim, scale, 57 + i),
    });
    const b = g.constant(`b${i + 1}`, { type: 'FLOAT', dims: [outDim], values: randn(outDim, 0.1, 97 + i) });
    const [h] = g.node('Gemm', [x, w, b], 1, { transB: attr.i(1) });
    x = i < layers.length - 1 ? g.node('Relu', [h])[0] : h;
  });
  g.node('Softmax', [x], ['probabilities'], { axis: attr.i(1) });
  g.output('probabilities', 'FLOAT', ['N', 10]);
  const dir = join(ROOT, 'bench/out/mlp_big');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), g.toBytes());
  return dir;
}
