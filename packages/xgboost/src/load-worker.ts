/**
 * Worker-thread entry of `loadTreeModelIsolated`: reads, parses and converts one tree model file off the server's
 * event loop, then posts the conversion (plain data) or the error's class, file and reason back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadTreeModel } from './load.js';
import type { TreeLoadWorkerData, TreeLoadWorkerReply } from './load-isolated.js';

const data = workerData as TreeLoadWorkerData;
let reply: TreeLoadWorkerReply;
try {
  reply = { ok: true, converted: await loadTreeModel(data.path) };
} catch (err) {
  const e = err as Error & { file?: string; reason?: string };
  reply = { ok: false, name: e.name, message: e.message, file: e.file, reason: e.reason };
}
parentPort?.postMessage(reply);
