// NumPy 2 pickles name `numpy._core.*` (NumPy 1 wrote `numpy.core.*`). The real scikit-learn 1.4.2 / NumPy 2.2 files
// of gen_debian_sweep.py and gen_target_encoder_trixie.py use `numpy._core.multiarray._reconstruct` and `.scalar`,
// which are allowed; everything else under the new module names is refused before anything is built.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertSklearnBytes, loadSklearnModel, UnsafePickleError } from '../src/index.js';
import { decompressJoblib } from '../src/pickle/joblib.js';
import { unpickleBytes } from '../src/pickle/unpickler.js';
import { localFixture } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'servekit-numpy2-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const u8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const shortUnicode = (s: string): number[] => [0x8c, Buffer.byteLength(s), ...u8(s)];

/** Protocol 4, as NumPy 2 writes: `module` `name` STACK_GLOBAL, then `name(arg)` via TUPLE1 REDUCE, STOP. */
function stackGlobalCall(module: string, name: string, arg: string): Uint8Array {
  return Uint8Array.from([
    0x80,
    4,
    ...shortUnicode(module),
    0x94,
    ...shortUnicode(name),
    0x94,
    0x93,
    0x94,
    ...shortUnicode(arg),
    0x85,
    0x52,
    0x2e,
  ]);
}

/** The error unpickling `bytes` throws. */
function refusal(bytes: Uint8Array): unknown {
  try {
    unpickleBytes(bytes);
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The decompressed pickle of a committed joblib fixture. */
const rawPickle = (rel: string): Buffer =>
  Buffer.from(decompressJoblib(new Uint8Array(readFileSync(localFixture(rel)))));

describe('NumPy 2 module names (numpy._core.*): only the array and scalar rebuilders are allowed', () => {
  it('the real NumPy 2 fixtures do use numpy._core.multiarray._reconstruct and .scalar, and load', async () => {
    const raw = rawPickle('target-encoder/te_binary_strings.joblib').toString('latin1');
    expect(raw).toContain('numpy._core.multiarray');
    expect(raw).toContain('_reconstruct');
    expect(raw).toContain('scalar');
    expect(raw).not.toContain('numpy.core.');
    const model = await loadSklearnModel(localFixture('target-encoder/te_binary_strings.joblib'));
    expect(Object.keys(model.methods)).toEqual(['transform']);
  });

  const marker = join(work, 'pwned');
  const hostile: [string, string][] = [
    ['numpy._core.numeric', 'fromfunction'], // calls its first argument
    ['numpy._core.records', 'fromfile'],
    ['numpy._core.multiarray', 'fromfile'],
    ['numpy._core.multiarray', 'frombuffer'],
    ['numpy._core._internal', '_ctypes'],
    ['numpy._core.umath', 'add'],
    ['numpy._core.multiarray', '_reconstruct.__globals__'], // dotted attribute walk (protocol 4 allows it)
    ['numpy._core.multiarray', '__builtins__'],
    ['numpy._core.multiarray', 'scalar.__call__'],
    ['numpy._core', 'multiarray'],
    ['numpy.testing._private.utils', 'runstring'], // exec()s a string
    ['numpy.lib.format', 'read_array'],
    ['numpy._core.numeric', 'load'],
    ['numpy.random.bit_generator', '__pyx_unpickle_SeedSequence.__globals__'],
    ['numpy.random.bit_generator', 'BitGenerator'],
    ['scipy._lib.array_api_compat.numpy._aliases', 'asarray.__globals__'],
    ['scipy._lib.array_api_compat.numpy._aliases', 'astype'],
    ['scipy._lib.array_api_compat.numpy', 'asarray'],
  ];
  it.each(hostile)('%s.%s through STACK_GLOBAL + REDUCE is refused, naming it, and nothing runs', (module, name) => {
    const err = refusal(stackGlobalCall(module, name, `open(${JSON.stringify(marker)}, 'w')`));
    expect(err).toBeInstanceOf(UnsafePickleError);
    expect((err as UnsafePickleError).global).toBe(`${module}.${name}`);
    expect((err as Error).message).toContain(`'${module}.${name}'`);
    expect(existsSync(marker)).toBe(false);
  });

  it("NumPy 2's SeedSequence rebuilder (a 1.4 HistGradientBoosting's Generator) becomes an inert record", () => {
    const rec = unpickleBytes(stackGlobalCall('numpy.random.bit_generator', '__pyx_unpickle_SeedSequence', 'x'));
    expect(rec).toMatchObject({ module: 'numpy.random.bit_generator', name: '__pyx_unpickle_SeedSequence' });
  });

  it("scipy >= 1.16's BSpline keeps its namespace's asarray: an inert reference (scikit-learn 1.9 SplineTransformer)", async () => {
    const raw = rawPickle('forky/spline_ridge.joblib').toString('latin1');
    expect(raw).toContain('scipy._lib.array_api_compat.numpy._aliases');
    const model = await loadSklearnModel(localFixture('forky/spline_ridge.joblib'));
    expect(Object.keys(model.methods)).toEqual(['predict']);
  });

  it('a real NumPy 2 model whose numpy._core.multiarray is renamed to another module is refused', () => {
    const raw = rawPickle('trixie/column_transformer_dataframe_logreg.joblib');
    const from = Buffer.from('numpy._core.multiarray');
    const to = Buffer.from('numpy.testing._private'); // same length, so the pickle stays well formed
    expect(from.length).toBe(to.length);
    let at = raw.indexOf(from);
    expect(at).toBeGreaterThanOrEqual(0);
    while (at >= 0) {
      to.copy(raw, at);
      at = raw.indexOf(from, at + 1);
    }
    const run = () => convertSklearnBytes(new Uint8Array(raw));
    expect(run).toThrow(UnsafePickleError);
    expect(run).toThrow(/'numpy\.testing\._private\.(_reconstruct|scalar)'/);
  });

  it.each(['trixie', 'forky'])(
    '%s: HistGradientBoosting with categorical_features is refused at unpickling, naming the global',
    async (dir) => {
      // 1.4+ keep a ColumnTransformer in _preprocessor whose FunctionTransformer holds functools.partial(check_array)
      const load = loadSklearnModel(localFixture(`${dir}/refused_hgb_categorical_from_dtype.joblib`));
      await expect(load).rejects.toThrow(UnsafePickleError);
      await expect(load).rejects.toThrow(/'functools\.partial'.*Nothing in the file was executed/);
      await expect(load).rejects.toThrow(/HistGradientBoosting keeps in _preprocessor for categorical_features/);
    },
  );
});
