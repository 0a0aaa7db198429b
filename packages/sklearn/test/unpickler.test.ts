import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  convertSklearnBytes,
  loadSklearnModel,
  PickleFormatError,
  UnsafePickleError,
  UnsupportedEstimatorError,
} from '../src/index.js';
import { readJoblibBytes } from '../src/pickle/joblib.js';
import { unpickleBytes } from '../src/pickle/unpickler.js';
import { fixture, localFixture, readJson, runModel } from './helpers.js';

/** Assemble a pickle from opcode bytes and latin-1/utf-8 strings. */
function pickle(...parts: (number | string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (Array.isArray(p)) out.push(...p);
    else out.push(...Buffer.from(p, 'utf8'));
  }
  return Uint8Array.from(out);
}
const shortUnicode = (s: string): number[] => [0x8c, Buffer.byteLength(s), ...Buffer.from(s, 'utf8')];
const binUnicode = (s: string): number[] => {
  const b = Buffer.from(s, 'utf8');
  return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b];
};

const work = mkdtempSync(join(tmpdir(), 'servekit-sklearn-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('restricted unpickler refuses code-executing globals', () => {
  it('refuses os.system (protocol 2 GLOBAL + REDUCE) and nothing runs', () => {
    const marker = join(work, 'pwned-os-system');
    // cos\nsystem\n (X'touch marker') tuple1 REDUCE STOP
    const bytes = pickle(0x80, 2, 'cos\nsystem\n', binUnicode(`touch ${marker}`), 0x85, 0x52, 0x2e);
    const err = (() => {
      try {
        unpickleBytes(bytes);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UnsafePickleError);
    expect((err as UnsafePickleError).global).toBe('os.system');
    expect((err as Error).message).toContain("'os.system'");
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses builtins.eval reached through STACK_GLOBAL + REDUCE (protocol 4, framed, memoized)', () => {
    const marker = join(work, 'pwned-eval');
    const body = [
      ...shortUnicode('builtins'),
      0x94,
      ...shortUnicode('eval'),
      0x94,
      0x93,
      0x94,
      ...binUnicode(`__import__('os').system('touch ${marker}')`),
      0x94,
      0x85,
      0x94,
      0x52,
      0x94,
      0x2e,
    ];
    const frame = [0x95, body.length, 0, 0, 0, 0, 0, 0, 0];
    expect(() => unpickleBytes(pickle(0x80, 4, frame, body))).toThrow(/'builtins\.eval'/);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses subprocess.Popen, posix.system, builtins.getattr and sklearn dunder names', () => {
    expect(() => unpickleBytes(pickle(0x80, 2, 'csubprocess\nPopen\n', 0x2e))).toThrow(/'subprocess\.Popen'/);
    expect(() => unpickleBytes(pickle(0x80, 2, 'cposix\nsystem\n', 0x2e))).toThrow(/'posix\.system'/);
    expect(() => unpickleBytes(pickle(0x80, 2, 'c__builtin__\ngetattr\n', 0x2e))).toThrow(/'__builtin__\.getattr'/);
    expect(() => unpickleBytes(pickle(0x80, 2, 'csklearn\n__loader__\n', 0x2e))).toThrow(/'sklearn\.__loader__'/);
    // INST (protocol 0) names the class inline
    expect(() => unpickleBytes(pickle(0x28, 'isubprocess\nPopen\n', 0x2e))).toThrow(UnsafePickleError);
  });

  it('refuses a dangerous global hidden inside an otherwise valid model file', () => {
    const good = readFileSync(fixture('sklearn/iris_logreg/model.joblib'));
    // prepend a harmless-looking tuple whose first item is os.system, then the real model
    const evil = pickle(0x80, 4, 'cos\nsystem\n', 0x30, ...good.subarray(2));
    expect(() => readJoblibBytes(evil)).toThrow(/'os\.system'/);
  });
});

describe('file format errors are clear', () => {
  const churn = new Uint8Array(readFileSync(fixture('sklearn/churn/model.joblib')));

  it('truncated joblib file', () => {
    expect(() => readJoblibBytes(churn.subarray(0, churn.length / 2))).toThrow(PickleFormatError);
    expect(() => readJoblibBytes(churn.subarray(0, churn.length / 2))).toThrow(/truncated/);
  });

  it('truncated array data after a NumpyArrayWrapper', () => {
    const iris = new Uint8Array(readFileSync(fixture('sklearn/iris_random_forest/model.joblib')));
    expect(() => readJoblibBytes(iris.subarray(0, iris.length - 100))).toThrow(/truncated/);
  });

  it('corrupt opcode, empty file, non-pickle file', () => {
    expect(() => unpickleBytes(pickle(0x80, 4, 0xff, 0x2e))).toThrow(/unknown opcode 0xff/);
    expect(() => readJoblibBytes(new Uint8Array())).toThrow(/empty/);
    expect(() => readJoblibBytes(new TextEncoder().encode('hello world'))).toThrow(/not a pickle\/joblib file/);
    expect(() => unpickleBytes(pickle(0x80, 2, 0x30, 0x2e))).toThrow(/stack underflow/);
  });

  it('truncated / corrupt zlib stream', () => {
    const z = deflateSync(Buffer.from(churn));
    expect(() => readJoblibBytes(new Uint8Array(z.subarray(0, z.length >> 1)))).toThrow(
      /zlib-compressed joblib file is corrupt or truncated/,
    );
  });

  it('bz2 and xz joblib files get a clear error naming the compression', () => {
    expect(() => readJoblibBytes(new Uint8Array(readFileSync(localFixture('extra/format_bz2.joblib'))))).toThrow(
      /bz2-compressed/,
    );
    expect(() => readJoblibBytes(new Uint8Array(readFileSync(localFixture('extra/format_xz.joblib'))))).toThrow(
      /xz-compressed/,
    );
    expect(() => readJoblibBytes(Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0))).toThrow(/lz4-compressed/);
  });

  it('loadSklearnModel on a missing file rejects with ENOENT', async () => {
    await expect(loadSklearnModel(join(work, 'nope.joblib'))).rejects.toThrow(/ENOENT/);
  });
});

describe('unsupported estimators', () => {
  it('names the class and lists what is supported', () => {
    // DBSCAN() (no predict, so never servable): NEWOBJ with an empty state dict
    const bytes = pickle(0x80, 2, 'csklearn.cluster._dbscan\nDBSCAN\n', 0x29, 0x81, 0x7d, 0x62, 0x2e);
    const run = (): unknown => convertSklearnBytes(bytes);
    expect(run).toThrow(UnsupportedEstimatorError);
    expect(run).toThrow(/sklearn\.cluster\._dbscan\.DBSCAN is not supported/);
    expect(run).toThrow(/Supported: .*LogisticRegression/);
  });

  it('a file holding a plain dict is not an estimator', () => {
    expect(() => convertSklearnBytes(pickle(0x80, 2, 0x7d, 0x2e))).toThrow(
      /holds a dict, not a scikit-learn estimator/,
    );
  });
});

describe('object model', () => {
  it('rebuilds dicts, numpy arrays and the structured Tree nodes array', () => {
    const v = readJoblibBytes(new Uint8Array(readFileSync(fixture('sklearn/iris_decision_tree/model.joblib'))));
    expect(v).toMatchObject({ kind: 'object', module: 'sklearn.tree._classes', name: 'DecisionTreeClassifier' });
    const state = (v as { state: Map<string, unknown> }).state;
    const tree = state.get('tree_') as { name: string; state: Map<string, unknown> };
    expect(tree.name).toBe('Tree');
    const nodes = tree.state.get('nodes') as { shape: number[]; fields: Map<string, { data: ArrayLike<unknown> }> };
    expect(nodes.shape).toEqual([17]);
    expect([...nodes.fields.keys()]).toEqual([
      'left_child',
      'right_child',
      'feature',
      'threshold',
      'impurity',
      'n_node_samples',
      'weighted_n_node_samples',
    ]);
    expect(Number(nodes.fields.get('left_child')!.data[0])).toBe(1);
    const classes = state.get('classes_') as { data: BigInt64Array };
    expect(Array.from(classes.data)).toEqual([0n, 1n, 2n]);
  });
});

describe('LabelEncoder (targets)', () => {
  it('maps labels to their codes; unknown labels → -1', async () => {
    const c = readJson<{ cases: { name: string; inputs: string[]; transform: number[] }[] }>(
      localFixture('extra/expected.json'),
    ).cases.find((x) => x.name === 'label_encoder')!;
    const model = await loadSklearnModel(localFixture('extra/label_encoder.joblib'));
    const out = await runModel(model, model.encoder.encodeInstances([...c.inputs, 'berlin'].map((s) => [s])));
    expect(out.matrix!.flat()).toEqual([...c.transform, -1]);
  });
});

describe('plain files written by the test', () => {
  it('a protocol-2 pickle of bytes via _codecs.encode is rebuilt', () => {
    const bytes = pickle(
      0x80,
      2,
      'c_codecs\nencode\n',
      binUnicode('\u00ff\u0001'),
      binUnicode('latin1'),
      0x86,
      0x52,
      0x2e,
    );
    expect(Array.from(unpickleBytes(bytes) as Uint8Array)).toEqual([255, 1]);
  });

  it('writes nothing outside its temp dir when loading a model', async () => {
    const p = join(work, 'copy.joblib');
    writeFileSync(p, readFileSync(fixture('sklearn/iris_logreg/model.joblib')));
    const m = await loadSklearnModel(p);
    expect(m.estimator).toBe('LogisticRegression');
  });
});
