// `servekit serve` with untrusted model files and folders: a slow or hostile pickle loads in a worker (the
// server keeps answering, SIGTERM is honoured, a time budget stops it), and only folders holding a model are served.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { long4Pickle, slowPickle } from '../../sklearn/test/pickle-hostile.js';
import { manyTreesModel } from '../../xgboost/test/helpers.js';
import { FIX, killAll, post, type Running, run, serve, stop } from './cli-process.js';

const stopLater: import('node:child_process').ChildProcess[] = [];
afterAll(() => {
  killAll();
  for (const p of stopLater) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

interface IndexRow {
  name: string;
  state: string;
  reason?: string;
}

const scratch = (): string => mkdtempSync(join(tmpdir(), 'servekit-files-'));
const index = async (base: string) => (await post(`${base}/v2/repository/index`, {})).body as unknown as IndexRow[];
const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];

/**
 * Probe `/v2/health/live` and the iris model's inference one after the other until `done` settles; returns
 * the longest time without an answer (from the start, between answers, and up to the end) and the duration.
 */
async function probeWhile(r: Running, done: Promise<unknown>): Promise<{ maxGapMs: number; durationMs: number }> {
  const start = performance.now();
  let settled = false;
  void done.finally(() => {
    settled = true;
  });
  let last = start;
  let maxGap = 0;
  let answers = 0;
  while (!settled) {
    const live = await fetch(`${r.base}/v2/health/live`);
    expect(live.status).toBe(200);
    const pred = await post(`${r.base}/v1/models/iris:predict`, { instances: [IRIS_ROW] });
    expect(pred.body.predictions).toEqual([0]);
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    answers++;
  }
  await done;
  const end = performance.now();
  maxGap = Math.max(maxGap, end - last);
  expect(answers).toBeGreaterThan(2);
  return { maxGapMs: maxGap, durationMs: end - start };
}

describe('servekit serve: untrusted pickles load off the event loop', () => {
  it('keeps answering health probes and other models while a slow pickle loads through the repository API', async () => {
    const dir = scratch();
    try {
      cpSync(join(FIX, 'sklearn/iris_logreg'), join(dir, 'iris'), { recursive: true });
      const r = await serve(['--model_dir', dir]);
      mkdirSync(join(dir, 'slow'));
      writeFileSync(join(dir, 'slow/model.pkl'), slowPickle());
      const load = post(`${r.base}/v2/repository/models/slow/load`, {});
      const { maxGapMs, durationMs } = await probeWhile(r, load);
      // Blocked, the longest gap would be the whole load; free, it is a few round trips.
      expect(maxGapMs / durationMs).toBeLessThan(0.3);
      const slow = (await index(r.base)).find((e) => e.name === 'slow')!;
      expect(slow.state).toBe('UNAVAILABLE');
      expect(slow.reason).toMatch(/not a scikit-learn estimator/);

      // A 200 KB LONG4 (118 s of decoding before) is refused at once, naming the cap.
      mkdirSync(join(dir, 'long'));
      writeFileSync(join(dir, 'long/model.pkl'), long4Pickle(200_000));
      const t0 = performance.now();
      await post(`${r.base}/v2/repository/models/long/load`, {});
      expect((performance.now() - t0) / durationMs).toBeLessThan(1);
      const long = (await index(r.base)).find((e) => e.name === 'long')!;
      expect(long.reason).toMatch(/200000-byte integer, over the 1024-byte cap/);
      expect(long.reason).not.toContain(dir);
      expect(await stop(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops a load past --model_load_timeout_seconds, reports why, and serves the other models', async () => {
    const dir = scratch();
    try {
      cpSync(join(FIX, 'sklearn/iris_logreg'), join(dir, 'iris'), { recursive: true });
      mkdirSync(join(dir, 'slow'));
      // 2^26 elements over 26 dims: far longer than the 5 s budget, which the iris model needs a fraction of.
      writeFileSync(join(dir, 'slow/model.pkl'), slowPickle(26));
      const r = await serve(['--model_dir', dir, '--model_load_timeout_seconds', '5']);
      const byName = Object.fromEntries((await index(r.base)).map((e) => [e.name, e]));
      expect(byName.iris!.state).toBe('READY');
      expect(byName.slow!.state).toBe('UNAVAILABLE');
      expect(byName.slow!.reason).toMatch(/took longer than 5 s \(--model_load_timeout_seconds\); stopped/);
      const pred = await post(`${r.base}/v1/models/iris:predict`, { instances: [IRIS_ROW] });
      expect(pred.body.predictions).toEqual([0]);
      expect(await stop(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops a tree model load past --model_load_max_memory_mb and reports why', async () => {
    const dir = scratch();
    try {
      mkdirSync(join(dir, 'big'));
      // The iris XGBoost model with its trees repeated: tens of MiB of JSON, far over a 16 MiB heap once parsed.
      writeFileSync(join(dir, 'big/model.json'), manyTreesModel(250));
      const r = await serve(['--model_dir', dir, '--model_load_max_memory_mb', '16']);
      const big = (await index(r.base)).find((e) => e.name === 'big')!;
      expect(big.state).toBe('UNAVAILABLE');
      expect(big.reason).toMatch(/needed more than 16 MiB of heap \(--model_load_max_memory_mb\); stopped/);
      expect(await stop(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honours SIGTERM while a slow pickle loads at startup', async () => {
    const dir = scratch();
    try {
      mkdirSync(join(dir, 'slow'));
      writeFileSync(join(dir, 'slow/model.pkl'), slowPickle(24));
      cpSync(join(FIX, 'sklearn/iris_logreg'), join(dir, 'iris'), { recursive: true });
      // How long the load takes, in this run: a server that starts once it has (failed to) load it.
      const t0 = performance.now();
      const full = await serve(['--model_dir', dir]);
      const startupMs = performance.now() - t0;
      expect(await stop(full)).toBe(0);

      const { spawn } = await import('node:child_process');
      const { BIN, ROOT } = await import('./cli-process.js');
      const args = ['serve', '--model_dir', dir, '--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1'];
      const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: 'ignore' });
      stopLater.push(proc);
      // Half-way through the startup the slow load is under way (the server logs nothing before it listens).
      await new Promise((resolve) => setTimeout(resolve, startupMs / 2));
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      const t1 = performance.now();
      proc.kill('SIGTERM');
      const code = await exited;
      const exitMs = performance.now() - t1;
      expect(code).toBe(0);
      // Blocked by the load, it would exit only once the load ends: half the startup or more.
      expect(exitMs / startupMs).toBeLessThan(0.3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('servekit serve: only folders holding a model are served', () => {
  it('ignores sub-folders without a model file and does not echo server paths to clients', async () => {
    const dir = scratch();
    try {
      cpSync(join(FIX, 'sklearn/iris_logreg'), join(dir, 'iris'), { recursive: true });
      mkdirSync(join(dir, 'docs'));
      writeFileSync(join(dir, 'docs/README'), 'not a model');
      mkdirSync(join(dir, 'two-pickles'));
      cpSync(join(FIX, 'sklearn/iris_logreg/model.joblib'), join(dir, 'two-pickles/model.joblib'));
      cpSync(join(FIX, 'sklearn/iris_logreg/model.joblib'), join(dir, 'two-pickles/model.pkl'));
      const r = await serve(['--model_dir', dir, '--log_level', 'debug']);
      const rows = await index(r.base);
      expect(rows.map((e) => e.name).sort()).toEqual(['iris', 'two-pickles']);
      for (const e of rows) expect(e.reason ?? '').not.toContain(dir);
      expect(r.log.join('\n')).toMatch(/ignoring sub-folder \\"docs\\" of the model dir: no model file in it/);
      // A repository load of a folder that holds no model is as unknown as a missing one.
      expect((await post(`${r.base}/v2/repository/models/docs/load`, {})).status).toBe(404);
      expect(await stop(r)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a folder with nothing servable: --storage_uri file:///etc, or a dir of documents', async () => {
    const etc = await run(['serve', '--storage_uri', 'file:///etc', '--http_port', '0', '--grpc_port', '0']);
    expect(etc.code).not.toBe(0);
    expect(etc.stderr).toMatch(/nothing to serve in \/etc: no model file in it nor in any sub-folder/);
    const dir = scratch();
    try {
      mkdirSync(join(dir, 'docs'));
      writeFileSync(join(dir, 'docs/README'), 'not a model');
      const docs = await run(['serve', '--model_dir', dir, '--http_port', '0', '--grpc_port', '0']);
      expect(docs.code).not.toBe(0);
      expect(docs.stderr).toMatch(/nothing to serve/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
