import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphDefBuilder, seededUniform } from '../src/saved-model/graph-def-builder.js';
import { loadSavedModel } from '../src/saved-model/load.js';

const tmp = mkdtempSync(join(tmpdir(), 'servekit-gdb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('GraphDefBuilder', () => {
  it('seeded weights are reproducible and differ by seed', () => {
    expect(Array.from(seededUniform(5, 1, 7))).toEqual(Array.from(seededUniform(5, 1, 7)));
    expect(Array.from(seededUniform(5, 1, 7))).not.toEqual(Array.from(seededUniform(5, 1, 8)));
    for (const v of seededUniform(1000, 0.5, 3)) expect(Math.abs(v)).toBeLessThanOrEqual(0.5);
  });

  it('writes a Keras-style CNN SavedModel whose static shapes match what tfjs computes', async () => {
    const g = new GraphDefBuilder(3);
    const x = g.placeholder('image', [-1, 32, 32, 3]);
    let h = g.relu(g.batchNorm(g.conv2d(x, { filters: 8, stride: 2 }, 'stem'), 'stem/bn'));
    h = g.pool('MaxPool', h, { size: 3, stride: 2, padding: 'SAME' });
    const s = g.separableConv2d(h, 8, 'block');
    h = g.add(h, g.relu(g.batchNorm(s, 'block/bn')));
    const flat = g.flatten(g.pool('AvgPool', h));
    const pooled = g.globalAvgPool(h);
    const probs = g.unary('Softmax', g.dense(pooled, 10));
    const dir = join(tmp, 'cnn');
    g.write(dir, { image: x }, { probs, flat });
    const sm = await loadSavedModel(dir, { backend: 'cpu' });
    try {
      const data = seededUniform(2 * 32 * 32 * 3, 1, 9);
      const [p, f] = await sm.run(undefined, [{ name: 'image', datatype: 'FP32', shape: [2, 32, 32, 3], data }]);
      expect(p!.name).toBe('probs');
      expect(p!.shape).toEqual([2, ...probs.shape.slice(1)]);
      expect(f!.shape).toEqual([2, ...flat.shape.slice(1)]);
      const row = Array.from(p!.data as Float32Array).slice(0, 10);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    } finally {
      sm.dispose();
    }
  });
});
