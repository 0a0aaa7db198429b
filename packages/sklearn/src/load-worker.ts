/**
 * Worker-thread entry of `loadSklearnModelIsolated`: reads, unpickles and converts one model file off the
 * server's event loop, then posts the graph (or the error's class, message and refused global) back.
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { convertSklearnGraph } from './load.js';
import type { LoadWorkerData, LoadWorkerReply } from './load-isolated.js';

const data = workerData as LoadWorkerData;
let reply: LoadWorkerReply;
try {
  const bytes = await readFile(data.path);
  const graph = convertSklearnGraph(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), data.limits);
  reply = { ok: true, graph };
} catch (err) {
  const e = err as Error & { global?: string; code?: string };
  reply = { ok: false, name: e.name, message: e.message, global: e.global, code: e.code };
}
parentPort?.postMessage(reply);
