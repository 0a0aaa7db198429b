// The direct onnxruntime path (DirectSession: onnxruntime-node's native session, run synchronously) against the public
// API it replaces (SERVEKIT_ORT_API=public): both chosen where they should be, bit-identical outputs for every fixture
// and every tensor type on the main thread and in the worker thread, the same errors, and AdaptiveSession's move to a
// worker for a model whose runs block the loop.
import { join } from 'node:path';
import {
  type InferContext,
  InferenceError,
  type InferRequest,
  type InferResponse,
  type InferTensor,
  tensorFromJson,
} from '@servekit/core';
import { GraphBuilder, OnnxModel } from '@servekit/onnx';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveSession, DEFAULT_ADAPTIVE_POLICY } from '../src/adaptive-session.js';
import { DEFAULT_SESSION_OPTIONS } from '../src/onnx-model.js';
import { DirectSession, ORT_API_ENV, type OrtApi, ortApi } from '../src/ort-direct-session.js';
import type { WireTensor } from '../src/session-wire.js';
import { MainThreadSession, type SessionRunner, type WorkerSession } from '../src/session-worker.js';
import { casesOf, FIX, models } from './fixture-cases.js';
import { identity, TENSOR_TYPES } from './identity-models.js';

const ctx: InferContext = { headers: {}, protocol: 'v2', requestId: 't', signal: new AbortController().signal };
type Execution = 'main' | 'worker' | 'auto';

const opened: Array<{ release(): Promise<void> }> = [];
afterAll(async () => {
  for (const s of opened) await s.release();
});
afterEach(() => {
  delete process.env[ORT_API_ENV];
});

/** Run `create` with the public API forced, or not. */
async function withApi<T>(api: OrtApi, create: () => Promise<T>): Promise<T> {
  if (api === 'public') process.env[ORT_API_ENV] = 'public';
  try {
    return await create();
  } finally {
    delete process.env[ORT_API_ENV];
  }
}

/** An OnnxModel loaded on `api`; the load error's message instead when it fails. */
async function loadOn(api: OrtApi, dir: string | Uint8Array, execution: Execution): Promise<OnnxModel | string> {
  const source = typeof dir === 'string' ? { modelDir: dir } : { modelBytes: dir };
  const m = new OnnxModel(`${api}-${execution}`, { ...source, execution });
  try {
    await withApi(api, () => m.load());
  } catch (err) {
    return (err as Error).message;
  }
  opened.push({ release: () => m.unload() });
  return m;
}

/** The API the session behind a model runs on. */
function apiOf(m: OnnxModel): OrtApi {
  const s = (m as unknown as { session: SessionRunner }).session;
  if (s instanceof AdaptiveSession) {
    const inner = s as unknown as { main?: MainThreadSession; worker?: WorkerSession };
    return (inner.main ?? inner.worker)!.api;
  }
  return (s as MainThreadSession | WorkerSession).api;
}

/** A tensor's bytes (typed arrays) or values (strings), for a bit-for-bit comparison. */
function bits(t: InferTensor): { name: string; datatype: string; shape: number[]; data: unknown } {
  const d = t.data;
  const data = ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex') : d;
  return { name: t.name, datatype: t.datatype, shape: t.shape, data };
}

async function answer(m: OnnxModel, request: InferRequest): Promise<ReturnType<typeof bits>[] | string> {
  try {
    return ((await m.predict(request, ctx)) as InferResponse).outputs.map(bits);
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

describe('onnxruntime API choice', () => {
  it('runs on the native binding by default and on the public API with SERVEKIT_ORT_API=public', async () => {
    expect(ortApi()).toBe('direct');
    const dir = join(FIX, 'sklearn-onnx-docs/rf_iris');
    for (const execution of ['main', 'worker', 'auto'] as const) {
      const direct = await loadOn('direct', dir, execution);
      const pub = await loadOn('public', dir, execution);
      expect(apiOf(direct as OnnxModel), execution).toBe('direct');
      expect(apiOf(pub as OnnxModel), execution).toBe('public');
    }
    process.env[ORT_API_ENV] = 'public';
    expect(ortApi()).toBe('public');
    expect(DirectSession.create(new Uint8Array(8), {})).toBeUndefined();
  });

  it('leaves an execution provider the binding does not list to the public API (which refuses it)', async () => {
    const bytes = identity('FLOAT');
    expect(DirectSession.create(bytes, { executionProviders: ['bogus'] })).toBeUndefined();
    const direct = DirectSession.create(bytes, { executionProviders: ['cpu'] });
    expect(direct?.info.inputMetadata).toEqual([{ name: 'x', isTensor: true, type: 'float32', shape: ['N', 2] }]);
    direct?.release();
    direct?.release();
    expect(() => direct?.run({})).toThrow('released');
  });
});

/** The types the direct and public runs are compared on: one of each kind (every width runs in onnx-model.test.ts). */
const TYPES = TENSOR_TYPES.filter(([elem]) => !['UINT16', 'UINT32', 'INT8', 'INT16'].includes(elem));

describe.each(['main', 'worker'] as const)('direct and public API, execution %s', (execution) => {
  it.each(TYPES)('carry %s bit for bit', async (elem, dt, values) => {
    const bytes = identity(elem);
    const direct = (await loadOn('direct', bytes, execution)) as OnnxModel;
    const pub = (await loadOn('public', bytes, execution)) as OnnxModel;
    const request = { inputs: [{ ...tensorFromJson('x', values, dt), shape: [2, 2] }] };
    const d = await answer(direct, request);
    expect(d).toEqual(await answer(pub, request));
    expect(d).toEqual([bits({ ...request.inputs[0]!, name: 'y' })]);
  });
});

describe('direct and public API on every ONNX fixture', () => {
  const groups = models.filter((m) => !m.startsWith('real/'));
  it.each(groups)('%s: same load result and bit-identical outputs (main thread)', async (m) => {
    const [group, name] = m.split('/') as [string, string];
    const dir = join(FIX, m);
    const direct = await loadOn('direct', dir, 'main');
    const pub = await loadOn('public', dir, 'main');
    if (typeof direct === 'string' || typeof pub === 'string') {
      expect(String(direct).replace(/^Model direct-/, '')).toBe(String(pub).replace(/^Model public-/, ''));
      return;
    }
    expect(direct.metadata().inputs).toEqual(pub.metadata().inputs);
    expect(direct.metadata().outputs).toEqual(pub.metadata().outputs);
    const cases = name === 'SklearnDictVectorizer-OneOff-SkipDim1' ? [] : casesOf(group, name);
    for (const c of cases) {
      const request: InferRequest = {
        inputs: c.inputs.map((inp, i) => ({ ...inp.tensor, name: inp.name ?? direct.inputs[i]!.name })),
      };
      const d = await answer(direct, request);
      expect(d, c.label).toEqual(await answer(pub, request));
      if (!m.includes('strnormalizer')) expect(typeof d, `${c.label} answers`).not.toBe('string');
    }
  });
});

describe('errors of the native run', () => {
  // a + b over two [N] inputs: onnxruntime refuses different lengths at run time (no broadcast of 2 by 3).
  const add = (() => {
    const g = new GraphBuilder();
    g.input('a', 'FLOAT', ['N']);
    g.input('b', 'FLOAT', ['N']);
    g.node('Add', ['a', 'b'], ['c']);
    g.output('c', 'FLOAT', ['N']);
    return g.toBytes();
  })();
  const mismatched: InferRequest = {
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [2], data: new Float32Array([1, 2]) },
      { name: 'b', datatype: 'FP32', shape: [3], data: new Float32Array([1, 2, 3]) },
    ],
  };

  it.each(['main', 'worker', 'auto'] as const)(
    'become the same InferenceError as on the public API (execution %s)',
    async (execution) => {
      const direct = (await loadOn('direct', add, execution)) as OnnxModel;
      const pub = (await loadOn('public', add, execution)) as OnnxModel;
      await expect(direct.predict(mismatched, ctx)).rejects.toBeInstanceOf(InferenceError);
      const d = await answer(direct, mismatched);
      expect(d).toMatch(/^InferenceError: Model direct-\w+: onnxruntime failed: .*broadcast/);
      expect(d.toString().replace('direct-', '')).toBe(
        (await answer(pub, mismatched)).toString().replace('public-', ''),
      );
      // The session still serves after the failed run.
      const ok = { inputs: [mismatched.inputs[0]!, { ...mismatched.inputs[0]!, name: 'b' }] };
      expect(await answer(direct, ok)).toEqual(await answer(pub, ok));
    },
  );

  it('a wrong datatype or a missing input reaching the session fails as on the public API', async () => {
    const bytes = identity('FLOAT');
    const opts = DEFAULT_SESSION_OPTIONS;
    const { session: direct } = await MainThreadSession.create(bytes, opts);
    const { session: pub } = await withApi('public', () => MainThreadSession.create(bytes, opts));
    opened.push(direct, pub);
    expect([direct.api, pub.api]).toEqual(['direct', 'public']);
    const float64: Record<string, WireTensor> = { x: { type: 'float64', dims: [1, 2], data: new Float64Array(2) } };
    const error = (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (e: Error) => e.message,
      );
    const expected = await error(pub.run(float64));
    expect(expected).toMatch(/Unexpected input data type/);
    expect(await error(direct.run(float64))).toBe(expected);
    expect(await error(direct.run({}))).toBe(await error(pub.run({})));
  });
});

describe('main-thread runs on the direct API', () => {
  it('wait for the check phase, and the runs asked for in one turn of the event loop run there together', async () => {
    const { session } = await AdaptiveSession.create(identity('FLOAT'), DEFAULT_SESSION_OPTIONS);
    opened.push(session);
    const native = vi.spyOn(DirectSession.prototype, 'run');
    try {
      const feeds = (v: number): Record<string, WireTensor> => ({
        x: { type: 'float32', dims: [1, 2], data: new Float32Array([v, -v]) },
      });
      const runs = [1, 2, 3].map((v) => session.run(feeds(v)));
      // Nothing ran in the caller's turn (the poll phase goes on reading requests).
      expect(native).not.toHaveBeenCalled();
      let seenByFirstAnswer = 0;
      const first = runs[0]!.then(() => {
        seenByFirstAnswer = native.mock.calls.length;
      });
      const outs = await Promise.all(runs);
      await first;
      // All three ran before the first answer went on.
      expect(seenByFirstAnswer).toBe(3);
      expect(outs.map((o) => Array.from(o.y!.data as Float32Array))).toEqual([
        [1, -1],
        [2, -2],
        [3, -3],
      ]);
    } finally {
      native.mockRestore();
    }
  });
});

describe('AdaptiveSession on the direct API', () => {
  // y = x·x over a 512×512 input: a small file whose every run computes for milliseconds on one thread.
  const square = (() => {
    const g = new GraphBuilder();
    g.input('x', 'FLOAT', [512, 512]);
    g.node('MatMul', ['x', 'x'], ['y']);
    g.output('y', 'FLOAT', [512, 512]);
    return g.toBytes();
  })();
  const feeds = (): Record<string, WireTensor> => ({
    x: { type: 'float32', dims: [512, 512], data: Float32Array.from({ length: 512 * 512 }, (_, i) => (i % 17) / 8) },
  });
  const hex = (out: Record<string, WireTensor>) => Buffer.from((out.y!.data as Float32Array).buffer).toString('hex');

  it.each(['direct', 'public'] as const)(
    'moves a model whose runs block the loop to a worker thread, same outputs (%s API)',
    async (api) => {
      // Set for the whole test: the worker session, created at the move, reads it too (afterEach clears it).
      if (api === 'public') process.env[ORT_API_ENV] = 'public';
      const { session } = await AdaptiveSession.create(square, DEFAULT_SESSION_OPTIONS, DEFAULT_ADAPTIVE_POLICY);
      opened.push(session);
      expect(session.place).toBe('main');
      expect((session as unknown as { main: MainThreadSession }).main.api).toBe(api);
      const first = hex(await session.run(feeds()));
      let runs = 1;
      while (session.place === 'main' && runs < 20) {
        expect(hex(await session.run(feeds()))).toBe(first);
        runs++;
      }
      expect(session.place).not.toBe('main');
      await session.settled();
      expect(session.place).toBe('worker');
      expect((session as unknown as { worker: WorkerSession }).worker.api).toBe(api);
      expect(hex(await session.run(feeds()))).toBe(first);
    },
  );
});
