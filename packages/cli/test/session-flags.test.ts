// The onnxruntime session flags of `servekit serve`: parsed into OnnxModel session options, checked before the
// server starts, and applied per model (an unavailable execution provider fails that model's load, visibly).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '@servekit/core';
import type { OnnxModel } from '@servekit/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVE_FLAGS } from '../src/flags.js';
import { onnxFormat } from '../src/formats/onnx.js';
import { sessionOptionsFromFlags } from '../src/session-flags.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIX = join(ROOT, '../shared/fixtures/onnx');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');

const options = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  sessionOptionsFromFlags(parseFlags(argv, SERVE_FLAGS, env).flags);

describe('sessionOptionsFromFlags', () => {
  it('maps the flags (and their env vars) onto onnxruntime session options', () => {
    expect(options([])).toBeUndefined();
    expect(
      options([
        '--intra_op_threads',
        '2',
        '--inter-op-threads',
        '1',
        '--graph_optimization_level',
        'extended',
        '--execution_providers',
        'CUDA, cpu',
      ]),
    ).toEqual({
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'extended',
      executionProviders: ['cuda', 'cpu'],
    });
    expect(options([], { SERVEKIT_INTRA_OP_THREADS: '4' })).toEqual({ intraOpNumThreads: 4 });
  });

  it('names the flag and the accepted values when a value is wrong', () => {
    expect(() => options(['--graph_optimization_level', 'fast'])).toThrow(
      '--graph_optimization_level: expected one of disabled, basic, extended, layout, all, got "fast"',
    );
    expect(() => options(['--intra_op_threads=-1'])).toThrow('--intra_op_threads: expected a whole number');
    expect(() => options(['--inter_op_threads', '1.5'])).toThrow('--inter_op_threads: expected a whole number');
    expect(() => options(['--execution_providers', ' , '])).toThrow('--execution_providers: name at least one');
  });
});

describe('--session_execution', () => {
  it('reaches the ONNX format’s OnnxModel; a value other than auto, worker, main is refused', async () => {
    const flags = (argv: string[]) => parseFlags(argv, SERVE_FLAGS, {}).flags;
    const model = async (argv: string[]) =>
      (await onnxFormat.create('m', join(FIX, 'node/test_relu'), flags(argv), { logger: console }))[0]!
        .model as OnnxModel;
    expect((await model([])).options.execution).toBeUndefined(); // OnnxModel's default: auto
    expect((await model(['--session_execution', 'worker'])).options.execution).toBe('worker');
    expect(() => flags(['--session_execution', 'thread'])).toThrow('--session_execution');
  });
});

describe('servekit serve with session flags', () => {
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'servekit-session-'));
  cpSync(join(FIX, 'node/test_relu'), join(dir, 'relu'), { recursive: true });
  cpSync(join(FIX, 'onnxmltools/test_xgb'), join(dir, 'xgb'), { recursive: true });
  afterAll(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Start the CLI; resolves with its HTTP base URL once it listens. */
  async function start(args: string[]): Promise<{ proc: ChildProcess; base: string }> {
    const proc = spawn(
      process.execPath,
      [BIN, 'serve', '--http_port', '0', '--host', '127.0.0.1', '--enable_grpc', 'false', ...args],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    procs.push(proc);
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    let buffered = '';
    for await (const chunk of proc.stdout!) {
      buffered += String(chunk);
      const line = buffered.split('\n').find((l) => l.includes('"http"'));
      if (line) {
        proc.stdout!.resume();
        return { proc, base: `http://${(JSON.parse(line) as { http: string }).http}` };
      }
    }
    throw new Error(`servekit exited before listening: ${stderr}`);
  }

  async function stop(proc: ChildProcess): Promise<unknown> {
    proc.kill('SIGTERM');
    const [code] = await once(proc, 'exit');
    return code;
  }

  it('serves with explicit threads, optimization level and the cpu provider', async () => {
    const { proc, base } = await start([
      '--model_dir',
      dir,
      '--intra_op_threads',
      '1',
      '--inter_op_threads',
      '1',
      '--graph_optimization_level',
      'disabled',
      '--execution_providers',
      'cpu',
    ]);
    const x = Array.from({ length: 60 }, (_, i) => (i - 30) / 4);
    const res = await fetch(`${base}/v2/models/relu/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 4, 5], data: x }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
    expect(body.outputs[0]).toMatchObject({ name: 'y', data: x.map((v) => Math.max(v, 0)) });
    expect((await fetch(`${base}/v2/models/xgb/ready`)).status).toBe(200);
    expect(await stop(proc)).toBe(0);
  });

  it('reports an unavailable execution provider as each model’s load error and keeps the server up', async () => {
    const { proc, base } = await start(['--model_dir', dir, '--execution_providers', 'nosuchep']);
    const index = (await (await fetch(`${base}/v2/repository/index`, { method: 'POST', body: '{}' })).json()) as Array<{
      name: string;
      state: string;
      reason?: string;
    }>;
    expect(index.map((e) => e.name).sort()).toEqual(['relu', 'xgb']);
    for (const e of index) {
      expect(e.state, e.name).toBe('UNAVAILABLE');
      expect(e.reason, e.name).toMatch(/nosuchep/);
    }
    expect((await fetch(`${base}/v2/health/live`)).status).toBe(200);
    expect(await stop(proc)).toBe(0);
  });

  it('exits with a message naming the flag before serving when a value is invalid', async () => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--model_dir', dir, '--graph_optimization_level', 'fast'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(proc);
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    const [code] = await once(proc, 'exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--graph_optimization_level: expected one of disabled, basic, extended, layout, all/);
  });
});
