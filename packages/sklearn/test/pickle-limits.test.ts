// Hostile model files: every allocating opcode is capped before it allocates, compressed bombs stop at the
// inflate cap, and a load in the worker has a time and heap budget while the event loop stays free.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_PICKLE_LIMITS,
  loadSklearnModel,
  loadSklearnModelIsolated,
  ModelLoadAbortedError,
  PickleFormatError,
  PickleLimitError,
  UnsafePickleError,
} from '../src/index.js';
import { readJoblibBytes } from '../src/pickle/joblib.js';
import { longFromBytes } from '../src/pickle/opcodes/numbers.js';
import { unpickleBytes } from '../src/pickle/unpickler.js';
import { fixture } from './helpers.js';
import { long4Pickle, pickleOf, slowPickle } from './pickle-hostile.js';

const work = mkdtempSync(join(tmpdir(), 'servekit-pickle-limits-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

/** The error `fn` throws. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('integers', () => {
  it('a 200 KB LONG4 is refused at once (it used to take minutes: quadratic decoding)', () => {
    const err = thrown(() => unpickleBytes(long4Pickle(200_000)));
    expect(err).toBeInstanceOf(PickleLimitError);
    expect(err).toBeInstanceOf(PickleFormatError);
    expect(err.message).toMatch(/200000-byte integer, over the 1024-byte cap/);
  });

  it('LONG decoding is linear: 200 KB decode at once when the cap allows them, with the right value', () => {
    const bytes = new Uint8Array(200_000).fill(0xff);
    bytes[bytes.length - 1] = 0x7f; // 2^(8n-1) - 1
    const v = longFromBytes(bytes) as bigint;
    expect(v).toBe((1n << BigInt(8 * bytes.length - 1)) - 1n);
    expect(unpickleBytes(long4Pickle(200_000, 0xff), { maxLongBytes: 200_000 })).toBe(-1);
  });

  it("two's complement values of LONG1 match Python", () => {
    expect(longFromBytes(Uint8Array.of(0xff, 0x00))).toBe(255);
    expect(longFromBytes(Uint8Array.of(0x00, 0x80))).toBe(-32768);
    expect(longFromBytes(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1))).toBe(1n << 64n);
    expect(longFromBytes(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0xff))).toBe(-(1n << 64n));
    expect(unpickleBytes(pickleOf(0x80, 2, 0x8a, 2, 0x00, 0x80, 0x2e))).toBe(-32768);
  });

  it('a long text INT/LONG is refused before BigInt parses it', () => {
    expect(() => unpickleBytes(pickleOf('L', '9'.repeat(10_000), 'L\n.'))).toThrow(PickleLimitError);
    expect(unpickleBytes(pickleOf('L', '9'.repeat(30), 'L\n.'))).toBe(10n ** 30n - 1n);
  });
});

describe('allocating opcodes are checked against the file budget before they allocate', () => {
  const small = { maxBytes: 1000 };

  it('BINBYTES, BINBYTES8, BYTEARRAY8, BINUNICODE8, SHORT_BINSTRING, BINSTRING past the budget', () => {
    const cases = [
      pickleOf(0x80, 4, 0x42, u32(2000), Buffer.alloc(2000), 0x2e),
      pickleOf(0x80, 4, 0x8e, u64(2000), Buffer.alloc(2000), 0x2e),
      pickleOf(0x80, 5, 0x96, u64(2000), Buffer.alloc(2000), 0x2e),
      pickleOf(0x80, 4, 0x8d, u64(2000), Buffer.alloc(2000, 0x61), 0x2e),
      pickleOf(0x80, 2, 0x54, u32(2000), Buffer.alloc(2000, 0x61), 0x2e),
    ];
    for (const p of cases) expect(() => unpickleBytes(p, small)).toThrow(/past the 1000-byte budget/);
    // Many short strings add up.
    const shorts = pickleOf(
      0x80,
      2,
      0x28,
      ...Array.from({ length: 10 }, () => [0x55, 200, ...Buffer.alloc(200)]),
      'l.',
    );
    expect(() => unpickleBytes(shorts, small)).toThrow(PickleLimitError);
    expect(() => unpickleBytes(shorts)).not.toThrow();
  });

  it('a declared length past the end of the file is a truncation error, not an allocation', () => {
    expect(() => unpickleBytes(pickleOf(0x80, 4, 0x8e, u64(2 ** 50), 0x2e))).toThrow(/truncated/);
    expect(() => unpickleBytes(pickleOf(0x80, 4, 0x95, u64(2 ** 40), 0x4e, 0x2e))).toThrow(/truncated/);
  });

  it('a numpy array declaring 2^40 zero-size elements is refused (it used to loop 2^40 times)', () => {
    // _frombuffer(b'', dtype('U0'), (2**40,), 'C')
    const p = pickleOf(
      '\x80\x02cnumpy.core.numeric\n_frombuffer\n(C\x00',
      'cnumpy\ndtype\nX\x02\x00\x00\x00U0\x85R',
      '\x8a\x06',
      Buffer.from([0, 0, 0, 0, 0, 1]),
      '\x85X\x01\x00\x00\x00CtR.',
    );
    expect(() => unpickleBytes(p)).toThrow(/numpy array of shape \[1099511627776\].*budget/);
  });

  it('numpy arrays past the budget, with negative dims or too many dims are refused', () => {
    const arr = (dims: string, n: number): Buffer =>
      pickleOf(
        '\x80\x02cnumpy.core.numeric\n_frombuffer\n(B',
        u32(n),
        Buffer.alloc(n),
        'cnumpy\ndtype\nX\x02\x00\x00\x00f8\x85R(',
        dims,
        'tX\x01\x00\x00\x00CtR.',
      );
    expect(() => unpickleBytes(arr('J\x00\x10\x00\x00', 8 * 4096), { maxBytes: 8 * 1024 })).toThrow(PickleLimitError);
    expect(() => unpickleBytes(arr('J\xff\xff\xff\xff', 8))).toThrow(/bad dimension -1/);
    expect(() => unpickleBytes(arr('K\x01'.repeat(65), 8))).toThrow(/65 dimensions/);
    expect(unpickleBytes(arr('K\x02', 16))).toMatchObject({ shape: [2], data: new Float64Array(2) });
  });

  it('list and dict sizes are charged: MARK + 300k DUPs + APPENDS (used to overflow the call stack)', () => {
    const p = pickleOf(0x80, 2, 0x5d, 0x28, 0x4e, Buffer.alloc(300_000, 0x32), 0x65, 0x2e);
    expect((unpickleBytes(p) as unknown[]).length).toBe(300_001);
    expect(() => unpickleBytes(p, { maxBytes: 1_000_000 })).toThrow(/list of 300001 items/);
    const dict = pickleOf(0x80, 2, 0x7d, 0x28, Buffer.alloc(200_000, 0x4e), 0x75, 0x2e);
    expect(() => unpickleBytes(dict, { maxBytes: 1_000_000 })).toThrow(/dict of 200000 items/);
  });

  it('memo growth is capped', () => {
    const p = pickleOf(0x80, 4, 0x4e, Buffer.alloc(1000, 0x94), 0x2e);
    expect(unpickleBytes(p)).toBe(null);
    expect(() => unpickleBytes(p, { maxMemoEntries: 500 })).toThrow(/memo exceeds 500 entries/);
  });

  it('the defaults are the documented ones', () => {
    expect(DEFAULT_PICKLE_LIMITS).toEqual({
      maxBytes: 1024 ** 3,
      maxInflateRatio: 200,
      maxLongBytes: 1024,
      maxMemoEntries: 10_000_000,
      maxOps: 50_000_000,
    });
  });

  it('real models load under the defaults', () => {
    for (const f of ['sklearn/churn', 'sklearn/iris_gradient_boosting', 'sklearn/diabetes_random_forest_regressor']) {
      expect(readJoblibBytes(new Uint8Array(readFileSync(fixture(`${f}/model.joblib`))))).toMatchObject({
        kind: 'object',
      });
    }
  });
});

describe('compressed bombs stop at the inflate cap', () => {
  // 256 MiB of zeros deflates to ~256 KB: a 1000× bomb (the old code inflated it all, then found no pickle in it).
  const zeros = Buffer.alloc(256 * 1024 * 1024);
  const zlibBomb = deflateSync(zeros, { level: 9 });
  const gzipBomb = gzipSync(zeros, { level: 9 });

  it('zlib and gzip joblib bombs are refused as bombs, without inflating them whole', () => {
    for (const [bomb, kind] of [
      [zlibBomb, 'zlib'],
      [gzipBomb, 'gzip'],
    ] as const) {
      const err = thrown(() => readJoblibBytes(bomb));
      expect(err).toBeInstanceOf(PickleLimitError);
      expect(err.message).toMatch(new RegExp(`${kind}-compressed joblib file inflates past \\d+ bytes, 200×`));
    }
  });

  it('the file budget caps inflation too, and the file itself', () => {
    const churn = readFileSync(fixture('sklearn/churn/model.joblib'));
    const z = deflateSync(churn);
    expect(readJoblibBytes(z)).toMatchObject({ kind: 'object' });
    expect(z.length).toBeLessThan(2000);
    expect(churn.length).toBeGreaterThan(2000);
    expect(() => readJoblibBytes(z, { maxBytes: 2000 })).toThrow(/inflates past 2000 bytes, the file budget/);
    expect(() => readJoblibBytes(churn, { maxBytes: 1000 })).toThrow(/over the 1000-byte file budget/);
  });
});

describe('loading in a worker (loadSklearnModelIsolated)', () => {
  it('gives the same model as loading on the main thread', async () => {
    const path = fixture('sklearn/churn/model.joblib');
    const [a, b] = await Promise.all([loadSklearnModelIsolated(path), loadSklearnModel(path)]);
    expect(a.estimator).toBe(b.estimator);
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true);
    expect(a.encoder.encodeInstances([{ gender: 'female' }])[0]!.dims).toEqual([1, 45]);
  });

  it('keeps the error classes and messages of the unpickler', async () => {
    const evil = join(work, 'evil.pkl');
    writeFileSync(evil, pickleOf(0x80, 2, 'cos\nsystem\n', 'X\x02\x00\x00\x00id', 0x85, 0x52, 0x2e));
    await expect(loadSklearnModelIsolated(evil)).rejects.toBeInstanceOf(UnsafePickleError);
    const long = join(work, 'long.pkl');
    writeFileSync(long, long4Pickle(200_000));
    await expect(loadSklearnModelIsolated(long)).rejects.toBeInstanceOf(PickleLimitError);
    const missing = (await loadSklearnModelIsolated(join(work, 'missing.pkl')).then(
      () => new Error('loaded'),
      (e: unknown) => e,
    )) as Error;
    expect(missing.message).toMatch(/ENOENT.*'missing\.pkl'/);
    expect(missing.message).not.toContain(work);
  });

  it('the event loop stays free during a slow load; past its time budget the worker is stopped', async () => {
    const slow = join(work, 'slow.pkl');
    writeFileSync(slow, slowPickle());
    let last = performance.now();
    let maxGap = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const start = performance.now();
    // The slow file is no estimator: the load fails after it unpickled the whole (valid) array.
    await expect(loadSklearnModelIsolated(slow)).rejects.toThrow(/not a scikit-learn estimator/);
    const loadMs = performance.now() - start;
    clearInterval(tick);
    expect(maxGap / loadMs).toBeLessThan(0.25);

    const t0 = performance.now();
    const err = await loadSklearnModelIsolated(slow, { timeoutMs: loadMs / 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadAbortedError);
    expect((err as Error).message).toMatch(/took longer than .* s \(--model_load_timeout_seconds\); stopped/);
    expect((performance.now() - t0) / loadMs).toBeLessThan(0.75);
  });

  it('a load past its heap cap is stopped with the reason', async () => {
    // A dict of 1.5M distinct float keys: 24 MB of budget, well over 64 MiB of V8 heap.
    const n = 1_500_000;
    const body = Buffer.alloc(n * 10);
    for (let i = 0; i < n; i++) {
      body[i * 10] = 0x47; // BINFLOAT
      body.writeDoubleBE(i + 0.5, i * 10 + 1);
      body[i * 10 + 9] = 0x4e; // NONE
    }
    const big = join(work, 'big-dict.pkl');
    writeFileSync(big, pickleOf(0x80, 2, 0x7d, 0x28, body, 0x75, 0x2e));
    const err = await loadSklearnModelIsolated(big, { maxMemoryMb: 16 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadAbortedError);
    expect((err as Error).message).toMatch(/more than 16 MiB of heap/);
  });
});
