// Repository load/unload races on a real ONNX model served over REST: parallel unloads all succeed and unload once;
// an unload followed by parallel loads opens exactly one session; no worker thread or session is left behind; and
// inference racing with both only ever answers 200, 503 or 404. Own file: threads are counted in /proc/self/task.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelServer } from '@servekit/core';
import { OnnxModel } from '@servekit/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const IRIS = fileURLToPath(
  new URL('../../../../shared/fixtures/onnx/sklearn-onnx-docs/logreg_iris/model.onnx', import.meta.url),
);
const threads = () => readdirSync('/proc/self/task').length;

/** Counts sessions opened and released across every instance the factory builds. */
const sessions = { opened: 0, released: 0, loadCalls: 0, unloadCalls: 0 };

class CountingOnnx extends OnnxModel {
  override async load(): Promise<void> {
    sessions.loadCalls++;
    await super.load();
    sessions.opened++;
  }

  override async unload(): Promise<void> {
    sessions.unloadCalls++;
    const had = this.session !== undefined;
    await super.unload();
    if (had) sessions.released++;
  }
}

const iris = (name: string) => new CountingOnnx(name, { modelPath: IRIS });

let server: ModelServer;
let base: string;

beforeAll(async () => {
  server = new ModelServer({
    httpPort: 0,
    host: '127.0.0.1',
    enableGrpc: false,
    logLevel: 'silent',
    defaultMetrics: false,
  });
  server.repository.factory = iris;
  await server.start([iris('iris')]);
  base = `http://127.0.0.1:${server.httpPort}`;
});

afterAll(() => server.stop());

const repo = async (name: string, op: 'load' | 'unload'): Promise<number> =>
  (await fetch(`${base}/v2/repository/models/${name}/${op}`, { method: 'POST' })).status;

const inferBody = JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [5.1, 3.5] }] });

/** Keeps inferring until `stop()`; returns every status seen. */
function inferLoop(): { stop: () => Promise<Map<number, number>> } {
  const seen = new Map<number, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await fetch(`${base}/v2/models/iris/infer`, { method: 'POST', body: inferBody });
      await r.arrayBuffer();
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** One round of the reported races: 4 parallel unloads, then 4 parallel loads. */
async function round(): Promise<number[]> {
  const unloads = await Promise.all([1, 2, 3, 4].map(() => repo('iris', 'unload')));
  const loads = await Promise.all([1, 2, 3, 4].map(() => repo('iris', 'load')));
  return [...unloads, ...loads];
}

describe.skipIf(!existsSync('/proc/self/task'))('repository load/unload races on an ONNX model', () => {
  it('parallel unloads and loads succeed, open one session per load and leave no thread behind', async () => {
    expect(await round()).toEqual([200, 200, 200, 200, 200, 200, 200, 200]); // warm-up: lazily started threads
    const before = threads();
    const opened = sessions.opened;
    const loadCalls = sessions.loadCalls;
    const infer = inferLoop();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(...(await round()));
    const inferStatuses = await infer.stop();

    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Each round's 4 loads coalesce into one load of one fresh instance: one session, one worker.
    expect(sessions.loadCalls - loadCalls).toBe(10);
    expect(sessions.opened - opened).toBe(10);
    expect(sessions.opened - sessions.released).toBe(1);
    expect(threads()).toBeLessThanOrEqual(before);
    expect([...inferStatuses.keys()].filter((s) => ![200, 503, 404].includes(s))).toEqual([]);
    expect(inferStatuses.get(200) ?? 0).toBeGreaterThan(0);
  });

  it('a load of the loaded model reloads it: one new session, the old one released', async () => {
    const { opened, released } = sessions;
    expect(await Promise.all([1, 2, 3, 4].map(() => repo('iris', 'load')))).toEqual([200, 200, 200, 200]);
    expect(sessions.opened - opened).toBe(1);
    expect(sessions.released - released).toBe(1);
    const r = await fetch(`${base}/v2/models/iris/infer`, { method: 'POST', body: inferBody });
    expect(r.status).toBe(200);
  });
});
