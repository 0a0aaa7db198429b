/**
 * Loads a tree model file (XGBoost, LightGBM, CatBoost) in a worker thread, with a time budget and a heap cap, so
 * that a huge or hostile model file never blocks the server's event loop while it is parsed and converted.
 */
import { builtWorkerUrl, type IsolatedLoadBudget, runIsolatedLoad } from '@servekit/core/wire';
import { type ConvertedModel, TreeModelError } from './load.js';

/** What the tree load worker is started with. */
export interface TreeLoadWorkerData {
  /** The model file. */
  path: string;
}

/** What the tree load worker posts back: the conversion (plain data: ONNX bytes, names, columns) or the error. */
export type TreeLoadWorkerReply =
  | { ok: true; converted: ConvertedModel }
  | { ok: false; name: string; message: string; file?: string | undefined; reason?: string | undefined };

/** The worker script: `load-worker.js` beside this module once built (tests run src against the built dist). */
function workerUrl(): URL {
  return builtWorkerUrl(import.meta.url, 'load-worker.js', '@servekit/xgboost');
}

/** The worker's error rebuilt as the TreeModelError the converter threw (message kept, no stack). */
function rebuild(reply: Extract<TreeLoadWorkerReply, { ok: false }>): Error {
  if (reply.name === 'TreeModelError' && reply.file !== undefined && reply.reason !== undefined) {
    return new TreeModelError(reply.file, reply.reason);
  }
  return new Error(reply.message);
}

/**
 * Reads and converts any supported tree model file (as `loadTreeModel`) in a worker thread. Rejects with
 * ModelLoadAbortedError when the load takes longer than `timeoutMs` or its heap passes `maxMemoryMb`, with
 * TreeModelError when the file cannot be read or converted; the event loop of the caller stays free throughout.
 */
export async function loadTreeModelIsolated(path: string, budget: IsolatedLoadBudget = {}): Promise<ConvertedModel> {
  const data: TreeLoadWorkerData = { path };
  const reply = await runIsolatedLoad<TreeLoadWorkerReply>(workerUrl(), data, budget);
  if (!reply.ok) throw rebuild(reply);
  return reply.converted;
}
