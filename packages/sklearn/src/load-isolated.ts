/**
 * Loads a scikit-learn model file in a worker thread, with a time budget and a heap cap, so that a hostile or
 * merely huge pickle never blocks the server's event loop: on timeout or out-of-memory the worker is terminated
 * and the load fails with the reason, while the server keeps answering.
 */
import { basename, dirname } from 'node:path';
import { builtWorkerUrl, runIsolatedLoad } from '@servekit/core/wire';
import type { ConvertedGraph } from './convert/model.js';
import { type ConvertedSklearnModel, withEncoder } from './load.js';
import { PickleFormatError, UnsafePickleError, UnsupportedEstimatorError } from './pickle/errors.js';
import { PickleLimitError, type PickleLimits } from './pickle/limits.js';

export { DEFAULT_LOAD_MAX_MEMORY_MB, DEFAULT_LOAD_TIMEOUT_MS, ModelLoadAbortedError } from '@servekit/core/wire';

/** Options of `loadSklearnModelIsolated`. */
export interface IsolatedLoadOptions {
  /** Unpickler caps (file budget, int size, memo, opcodes); defaults from limits.ts. */
  limits?: Partial<PickleLimits>;
  /** Time budget in ms; the worker is terminated past it (default 300000). */
  timeoutMs?: number;
  /** Old-generation heap cap of the worker in MiB (default 4096). */
  maxMemoryMb?: number;
}

/** What the load worker is started with. */
export interface LoadWorkerData {
  /** The model file. */
  path: string;
  /** Unpickler caps. */
  limits: Partial<PickleLimits>;
}

/** What the load worker posts back. */
export type LoadWorkerReply =
  | { ok: true; graph: ConvertedGraph }
  | { ok: false; name: string; message: string; global?: string | undefined; code?: string | undefined };

/** The worker script: `load-worker.js` beside this module once built (tests run src against the built dist). */
function workerUrl(): URL {
  return builtWorkerUrl(import.meta.url, 'load-worker.js', '@servekit/sklearn');
}

/** The message with the model file's folder left out: load errors reach HTTP clients (repository index). */
function withoutServerPaths(message: string, path: string): string {
  return message
    .split(dirname(path))
    .join('<model dir>')
    .split(`<model dir>/${basename(path)}`)
    .join(basename(path));
}

/** The worker's error rebuilt as the class the unpickler/converter threw (message kept, no stack). */
function rebuild(reply: Extract<LoadWorkerReply, { ok: false }>, path: string): Error {
  let err: Error;
  if (reply.name === 'UnsafePickleError') err = new UnsafePickleError(reply.global ?? '?');
  else if (reply.name === 'PickleLimitError') err = new PickleLimitError(reply.message);
  else if (reply.name === 'PickleFormatError') err = new PickleFormatError(reply.message);
  else if (reply.name === 'UnsupportedEstimatorError') err = new UnsupportedEstimatorError(reply.message);
  else err = Object.assign(new Error(reply.message), reply.code === undefined ? {} : { code: reply.code });
  err.message = withoutServerPaths(reply.message, path);
  return err;
}

/**
 * Read, unpickle and convert model.joblib / model.pkl / model.pickle in a worker thread (nothing in the file is
 * executed). Rejects with ModelLoadAbortedError when the load takes longer than `timeoutMs` or its heap passes
 * `maxMemoryMb`; the event loop of the caller stays free throughout.
 */
export async function loadSklearnModelIsolated(
  path: string,
  options: IsolatedLoadOptions = {},
): Promise<ConvertedSklearnModel> {
  const data: LoadWorkerData = { path, limits: options.limits ?? {} };
  const reply = await runIsolatedLoad<LoadWorkerReply>(workerUrl(), data, {
    timeoutMs: options.timeoutMs,
    maxMemoryMb: options.maxMemoryMb,
  });
  if (!reply.ok) throw rebuild(reply, path);
  return withEncoder(reply.graph);
}
