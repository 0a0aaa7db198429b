// Tree model loads run in a worker thread: the event loop stays free while a huge model parses and converts, a
// load past its time budget is stopped with the reason, and the conversion crosses back intact.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelLoadAbortedError } from '@servekit/core/wire';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLightGBMModel, loadTreeModel, loadTreeModelIsolated, TreeModelError } from '../src/index.js';
import { localFixture, manyTreesModel } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'servekit-tree-load-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('loadTreeModelIsolated', () => {
  it('the event loop stays free during a huge model load; past its time budget the worker is stopped', async () => {
    const big = join(work, 'model.json');
    writeFileSync(big, manyTreesModel(250));
    let last = performance.now();
    let maxGap = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const start = performance.now();
    const converted = await loadTreeModelIsolated(big);
    const loadMs = performance.now() - start;
    clearInterval(tick);
    expect(converted.format).toBe('xgboost-json');
    expect(converted.onnx.byteLength).toBeGreaterThan(0);
    expect(maxGap / loadMs).toBeLessThan(0.25);

    // The same load on the main thread holds the loop for most of its duration: the ratio above is the worker's.
    last = performance.now();
    let mainGap = 0;
    const tick2 = setInterval(() => {
      const now = performance.now();
      mainGap = Math.max(mainGap, now - last);
      last = now;
    }, 5);
    const mainStart = performance.now();
    await loadTreeModel(big);
    const mainMs = performance.now() - mainStart;
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(tick2);
    expect(mainGap / mainMs).toBeGreaterThan(0.5);

    const t0 = performance.now();
    const err = await loadTreeModelIsolated(big, { timeoutMs: loadMs / 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadAbortedError);
    expect((err as Error).message).toMatch(/took longer than .* s \(--model_load_timeout_seconds\); stopped/);
    expect((performance.now() - t0) / loadMs).toBeLessThan(0.75);
  });

  it('a load past its heap cap is stopped with the reason', async () => {
    const big = join(work, 'model.json');
    writeFileSync(big, manyTreesModel(250));
    const err = await loadTreeModelIsolated(big, { maxMemoryMb: 16 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadAbortedError);
    expect((err as Error).message).toMatch(/more than 16 MiB of heap \(--model_load_max_memory_mb\)/);
  });

  it('the conversion crosses back whole, category names included', async () => {
    const path = `${localFixture('lightgbm-ruby-categorical')}/model.txt`;
    const { onnx, ...isolated } = await loadTreeModelIsolated(path);
    const { onnx: mainOnnx, ...main } = await loadLightGBMModel(path);
    expect(isolated).toEqual(main);
    expect(onnx).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(onnx, mainOnnx)).toBe(0);
    expect(isolated.categoryNames?.[3]).toEqual(Array.from({ length: 10 }, (_, i) => `cat${i}`));
  });

  it('a bad model file fails with the TreeModelError the converter gave', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, '{"learner": ');
    const err = await loadTreeModelIsolated(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TreeModelError);
    expect((err as Error).message).toMatch(/^.*bad\.json: cannot read xgboost-json model: invalid JSON/);
  });
});
