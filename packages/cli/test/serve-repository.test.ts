// `servekit serve` as a real process: V2 repository load/unload re-detection, --model_module, forced formats on
// multi-model dirs, ambiguous model files, flag value checks, --help, and `servekit convert DIR`.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelServer, SERVER_FLAGS } from '@servekit/core';
import { OnnxModel } from '@servekit/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVE_FLAGS } from '../src/flags.js';
import { FIX, killAll, post, ROOT, run, serve, stop } from './cli-process.js';

afterAll(killAll);

interface IndexRow {
  name: string;
  version?: string;
  state: string;
  reason?: string;
}

const scratch = (): string => mkdtempSync(join(tmpdir(), 'servekit-cli-'));
const index = async (base: string) => (await post(`${base}/v2/repository/index`, {})).body as unknown as IndexRow[];

describe('servekit serve: repository, modules and detection rules', () => {
  it('re-detects a model on V2 repository load after an unload (versions included), and 404s unknown names', async () => {
    const dir = scratch();
    try {
      cpSync(join(FIX, 'onnx/sklearn-onnx-docs/logreg_iris'), join(dir, 'iris'), { recursive: true });
      cpSync(join(FIX, 'tf/serving_half_plus_two_2_versions'), join(dir, 'hpt'), { recursive: true });
      const r = await serve(['--model_dir', dir]);
      const before = await index(r.base);
      expect(before.map((e) => `${e.name}@${e.version ?? ''}:${e.state}`).sort()).toEqual([
        'hpt@123:READY',
        'hpt@124:READY',
        'iris@:READY',
      ]);

      expect((await post(`${r.base}/v2/repository/models/hpt/unload`, {})).status).toBe(200);
      expect((await index(r.base)).filter((e) => e.name === 'hpt')).toEqual([
        { name: 'hpt', version: '123', state: 'UNAVAILABLE', reason: 'unloaded' },
        { name: 'hpt', version: '124', state: 'UNAVAILABLE', reason: 'unloaded' },
      ]);
      expect((await post(`${r.base}/v2/repository/models/hpt/load`, {})).status).toBe(200);
      const after = (await index(r.base)).filter((e) => e.name === 'hpt');
      expect(after.map((e) => `${e.version}:${e.state}`)).toEqual(['123:READY', '124:READY']);
      const v = await post(`${r.base}/v2/models/hpt/versions/123/infer`, {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [4] }],
      });
      expect((v.body.outputs as Array<{ data: number[] }>)[0]!.data).toEqual([4]);

      // A model folder added after start is found by name; a name with no folder is a 404, not another model.
      cpSync(join(FIX, 'sklearn/iris_logreg'), join(dir, 'late'), { recursive: true });
      expect((await post(`${r.base}/v2/repository/models/late/load`, {})).status).toBe(200);
      const late = await post(`${r.base}/v1/models/late:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] });
      expect(late.body.predictions).toEqual([0]);
      const unknown = await post(`${r.base}/v2/repository/models/nope/load`, {});
      expect(unknown.status).toBe(404);
      expect((await index(r.base)).map((e) => e.name)).not.toContain('nope');
      expect(await stop(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves a --model_module Model subclass constructed with (name, {modelDir, flags})', async () => {
    const dir = scratch();
    try {
      writeFileSync(join(dir, 'factor.json'), JSON.stringify({ factor: 3 }));
      const module = join(ROOT, 'packages/cli/test/fixtures/scale-model.mjs');
      const r = await serve(['--model_dir', dir, '--model_name', 'scale', '--model_module', module]);
      const res = await post(`${r.base}/v1/models/scale:predict`, { instances: [[1, 2]] });
      expect(res.body.predictions).toEqual([[3, 6]]);
      expect(await stop(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies a forced --model_format to each sub-folder of a multi-model dir', async () => {
    const dir = scratch();
    try {
      cpSync(join(FIX, 'tf/serving_half_plus_two_cpu'), join(dir, 'two'), { recursive: true });
      cpSync(join(FIX, 'tf/serving_half_plus_three'), join(dir, 'three'), { recursive: true });
      const r = await serve(['--model_dir', dir, '--model_format', 'tensorflow']);
      expect((await post(`${r.base}/v1/models/two:predict`, { instances: [2] })).body.predictions).toEqual([3]);
      expect((await post(`${r.base}/v1/models/three:predict`, { instances: [2] })).body.predictions).toEqual([4]);
      expect(await stop(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes --tf_engine to TensorFlow models and logs the engine of each signature', async () => {
    const model = join(FIX, 'tf/serving_half_plus_two_cpu');
    const engineLines = (r: { log: string[] }) =>
      r.log
        .flatMap((chunk) => chunk.split('\n'))
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { msg: string }).msg)
        .filter((m) => m.includes('signature "serving_default"'));
    for (const engine of ['tfjs', 'onnx', 'auto'] as const) {
      const r = await serve(['--model_dir', model, '--model_name', 'hpt', '--tf_engine', engine]);
      expect((await post(`${r.base}/v1/models/hpt:predict`, { instances: [[2]] })).body.predictions).toEqual([[3]]);
      const md = (await (await fetch(`${r.base}/v2/models/hpt`)).json()) as { parameters: { engine: string } };
      expect(md.parameters.engine, engine).toBe(engine === 'tfjs' ? 'tfjs' : 'onnx');
      const [line] = engineLines(r);
      expect(line, engine).toMatch(
        engine === 'auto'
          ? /^model "hpt" version 123: signature "serving_default": onnx \(onnxruntime-node\): every op lowers and the probe/
          : new RegExp(
              `^model "hpt" version 123: signature "serving_default": ${engine}.*: forced \\(engine: ${engine}\\)`,
            ),
      );
      expect(await stop(r)).toBe(0);
    }
  });

  it('reports two candidate model files and two formats in one folder as load errors naming the files', async () => {
    const dir = scratch();
    try {
      mkdirSync(join(dir, 'two-pickles'));
      cpSync(join(FIX, 'sklearn/iris_logreg/model.joblib'), join(dir, 'two-pickles/model.joblib'));
      cpSync(join(FIX, 'sklearn/iris_logreg/model.joblib'), join(dir, 'two-pickles/model.pkl'));
      mkdirSync(join(dir, 'two-formats'));
      cpSync(join(FIX, 'sklearn/iris_logreg/model.joblib'), join(dir, 'two-formats/model.joblib'));
      cpSync(join(FIX, 'onnx/sklearn-onnx-docs/logreg_iris/model.onnx'), join(dir, 'two-formats/model.onnx'));
      cpSync(join(FIX, 'sklearn/iris_logreg'), join(dir, 'ok'), { recursive: true });
      const r = await serve(['--model_dir', dir]);
      const byName = Object.fromEntries((await index(r.base)).map((e) => [e.name, e]));
      expect(byName['two-pickles']!.reason).toMatch(/several scikit-learn model files \(model\.joblib, model\.pkl\)/);
      expect(byName['two-formats']!.reason).toMatch(
        /several model formats \(onnx: model\.onnx; sklearn: model\.joblib\)/,
      );
      expect(byName.ok!.state).toBe('READY');
      expect(await stop(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad flag values and stray arguments before serving', async () => {
    const engine = await run(['serve', '--model_dir', ROOT, '--tf_engine', 'xla']);
    expect(engine.code).toBe(2);
    expect(engine.stderr).toContain('--tf_engine: expected one of auto, tfjs, onnx, got "xla".');
    const format = await run(['serve', '--model_dir', ROOT, '--model_format', 'pytorch']);
    expect(format.stderr).toMatch(/--model_format: expected one of onnx, sklearn, .*, got "pytorch"/);
    const stray = await run(['serve', 'models/']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/unexpected argument "models\/"/);
    const missing = await run(['serve', '--model_dir', join(ROOT, 'no-such-dir')]);
    expect(missing.stderr).toMatch(/is not a directory/);
  });

  it('--help lists every serve flag with its default and env vars', async () => {
    const help = await run(['serve', '--help']);
    expect(help.code).toBe(0);
    for (const f of SERVE_FLAGS) expect(help.stdout, f.name).toContain(`--${f.name}`);
    expect(help.stdout).toContain('PREDICT_PROBA');
    expect(help.stdout).toContain('servekit convert');
    expect(SERVE_FLAGS.length).toBeGreaterThan(SERVER_FLAGS.length);
  });

  it('servekit convert DIR writes the ONNX graph of the folder’s model; onnxruntime answers as XGBoost does', async () => {
    const dir = scratch();
    try {
      const out = join(dir, 'iris.onnx');
      const res = await run(['convert', join(FIX, 'xgboost/iris_multiclass'), '-o', out]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/from .*iris_multiclass\/model\.json/);
      const expected = JSON.parse(readFileSync(join(FIX, 'xgboost/iris_multiclass/expected.json'), 'utf8')) as {
        inputs: number[][];
        booster_predict: number[][];
      };
      const server = new ModelServer({ httpPort: 0, host: '127.0.0.1', enableGrpc: false, logLevel: 'silent' });
      await server.start([new OnnxModel('converted', { modelPath: out })]);
      try {
        const answer = await post(`http://127.0.0.1:${server.httpPort}/v2/models/converted/infer`, {
          inputs: [
            { name: 'input', datatype: 'FP64', shape: [expected.inputs.length, 4], data: expected.inputs.flat() },
          ],
          outputs: [{ name: 'predict' }],
        });
        const got = (answer.body.outputs as Array<{ data: number[] }>)[0]!.data;
        expected.booster_predict.flat().forEach((want, i) => {
          expect(Math.abs(got[i]! - want), `predict[${i}]`).toBeLessThanOrEqual(1e-6 + 1e-4 * Math.abs(want));
        });
      } finally {
        await server.stop();
      }
      const onnxDir = await run(['convert', join(FIX, 'onnx/sklearn-onnx-docs/logreg_iris'), '-o', out]);
      expect(onnxDir.code).toBe(2);
      expect(onnxDir.stderr).toMatch(/already holds an ONNX model/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
