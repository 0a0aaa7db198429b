// OnnxModel's default placement (`execution: 'auto'`, AdaptiveSession): a small model runs on the event loop thread,
// a session whose runs block the loop moves to a worker thread (and a large model file starts there), with the same
// outputs wherever it runs. Policies here are extreme (every run slow, every file large) so nothing depends on timing.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InferContext, InferRequest, InferTensor } from '@servekit/core';
import { OnnxModel } from '@servekit/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { AdaptiveSession, DEFAULT_ADAPTIVE_POLICY } from '../src/adaptive-session.js';
import { DEFAULT_SESSION_OPTIONS } from '../src/onnx-model.js';
import type { WireTensor } from '../src/session-wire.js';
import { stripZipMap } from '../src/zipmap.js';

const DOCS = fileURLToPath(new URL('../../../../shared/fixtures/onnx/sklearn-onnx-docs/', import.meta.url));
const RF = `${DOCS}rf_iris/model.onnx`;
const LOGREG = `${DOCS}logreg_iris/model.onnx`;
const ctx: InferContext = { headers: {}, protocol: 'v2', requestId: 't', signal: new AbortController().signal };

const rows = (n: number, width: number) =>
  Float32Array.from({ length: n * width }, (_, i) => 4 + ((i * 7) % 13) / 5 - (i % width === 3 ? 3.5 : 0));
const request = (input: string, n: number, width: number): InferRequest => ({
  inputs: [{ name: input, datatype: 'FP32', shape: [n, width], data: rows(n, width) }],
});
const plain = (outputs: InferTensor[]) =>
  outputs.map((t) => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape,
    data: Array.from(t.data as ArrayLike<unknown>),
  }));

const models: OnnxModel[] = [];
async function loaded(name: string, path: string, execution: 'auto' | 'worker' | 'main'): Promise<OnnxModel> {
  const m = new OnnxModel(name, { modelPath: path, execution });
  await m.load();
  models.push(m);
  return m;
}
afterAll(async () => {
  for (const m of models) await m.unload();
});

/** The session behind an OnnxModel (the field is protected). */
const sessionOf = (m: OnnxModel) => (m as unknown as { session: AdaptiveSession }).session;

describe('OnnxModel execution "auto"', () => {
  it.each([
    ['rf_iris', RF, 'float_input', 4],
    ['logreg_iris', LOGREG, 'X', 2],
  ])('serves %s on the event loop thread with the worker thread’s outputs', async (name, path, input, width) => {
    const auto = await loaded(`${name}-auto`, path, 'auto');
    const worker = await loaded(`${name}-worker`, path, 'worker');
    expect(sessionOf(auto)).toBeInstanceOf(AdaptiveSession);
    for (const n of [1, 3, 17]) {
      const a = await auto.predict(request(input, n, width), ctx);
      const w = await worker.predict(request(input, n, width), ctx);
      expect(plain((a as { outputs: InferTensor[] }).outputs)).toEqual(
        plain((w as { outputs: InferTensor[] }).outputs),
      );
    }
    // Many concurrent runs of a tiny model: it stays on the main thread.
    await Promise.all(Array.from({ length: 64 }, () => auto.predict(request(input, 1, width), ctx)));
    expect(sessionOf(auto).place).toBe('main');
  });

  it('is the default', async () => {
    const m = new OnnxModel('default', { modelPath: LOGREG });
    await m.load();
    models.push(m);
    expect(sessionOf(m)).toBeInstanceOf(AdaptiveSession);
  });
});

describe('AdaptiveSession', () => {
  // The ZipMap output stripped, as OnnxModel serves it (onnxruntime-node answers tensors only).
  const bytes = () => stripZipMap(new Uint8Array(readFileSync(LOGREG))).bytes;
  const feeds = (): Record<string, WireTensor> => ({ X: { type: 'float32', dims: [2, 2], data: rows(2, 2) } });
  const values = (out: Record<string, WireTensor>) =>
    Object.fromEntries(
      Object.entries(out).map(([k, t]) => [k, { dims: t.dims, data: Array.from(t.data as ArrayLike<unknown>) }]),
    );

  it('moves to a worker thread after slow runs, serving throughout, outputs unchanged', async () => {
    const everyRunSlow = { ...DEFAULT_ADAPTIVE_POLICY, slowRunMs: -1 };
    const { session } = await AdaptiveSession.create(bytes(), DEFAULT_SESSION_OPTIONS, everyRunSlow);
    try {
      const first = values(await session.run(feeds()));
      expect(session.place).toBe('main');
      // One run seen slow by the wall clock, then slowRunsToMove confirmed with CPU time.
      for (let i = 0; i < everyRunSlow.slowRunsToMove; i++) expect(values(await session.run(feeds()))).toEqual(first);
      expect(session.place).toBe('moving');
      // Runs while the worker starts still answer (on the main thread).
      const during = await Promise.all([session.run(feeds()), session.run(feeds())]);
      for (const out of during) expect(values(out)).toEqual(first);
      await session.settled();
      expect(session.place).toBe('worker');
      expect(values(await session.run(feeds()))).toEqual(first);
    } finally {
      await session.release();
    }
  });

  it('starts a large model file in a worker thread', async () => {
    const { session, info } = await AdaptiveSession.create(bytes(), DEFAULT_SESSION_OPTIONS, {
      ...DEFAULT_ADAPTIVE_POLICY,
      workerFromBytes: 1,
    });
    try {
      expect(session.place).toBe('worker');
      expect(info.inputMetadata.map((m) => m.name)).toEqual(['X']);
      expect(Object.keys(await session.run(feeds())).length).toBeGreaterThan(0);
    } finally {
      await session.release();
    }
  });

  it('releases cleanly while a move is under way, and refuses runs afterwards', async () => {
    const { session } = await AdaptiveSession.create(bytes(), DEFAULT_SESSION_OPTIONS, {
      ...DEFAULT_ADAPTIVE_POLICY,
      slowRunMs: -1,
      slowRunsToMove: 1,
    });
    await session.run(feeds());
    await session.run(feeds());
    expect(session.place).toBe('moving');
    await session.release();
    expect(session.place).toBe('released');
    await expect(session.run(feeds())).rejects.toThrow('released');
  });
});
