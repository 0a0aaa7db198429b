/**
 * Runs one model load in a worker thread with a time budget and a heap cap, so that a hostile or merely huge model
 * file never blocks the server's event loop: on timeout or out-of-memory the worker is terminated and the load
 * fails with the reason, while the server keeps answering. Adapter packages supply the worker script and its reply.
 */
import { Worker } from 'node:worker_threads';

/** Default time budget of one model load in a worker: 5 minutes (`--model_load_timeout_seconds`). */
export const DEFAULT_LOAD_TIMEOUT_MS = 300_000;
/** Default heap cap of the load worker in MiB (`--model_load_max_memory_mb`). */
export const DEFAULT_LOAD_MAX_MEMORY_MB = 4096;

/** A model load ran past its time budget or out of memory; the worker doing it was terminated. */
export class ModelLoadAbortedError extends Error {
  override readonly name = 'ModelLoadAbortedError';
}

/** Budgets of `runIsolatedLoad`. */
export interface IsolatedLoadBudget {
  /** Time budget in ms; the worker is terminated past it (default 300000). */
  timeoutMs?: number | undefined;
  /** Old-generation heap cap of the worker in MiB (default 4096). */
  maxMemoryMb?: number | undefined;
}

/**
 * Starts the worker script `url` with `workerData` and resolves with the first message it posts (plain,
 * structured-clone data). Rejects with ModelLoadAbortedError past `timeoutMs` or when its heap passes
 * `maxMemoryMb`, and with an Error when the worker fails or exits before answering; the worker is always ended.
 */
export function runIsolatedLoad<Reply>(url: URL, workerData: unknown, budget: IsolatedLoadBudget = {}): Promise<Reply> {
  const timeoutMs = budget.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  const maxMemoryMb = budget.maxMemoryMb ?? DEFAULT_LOAD_MAX_MEMORY_MB;
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, {
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb },
      stdout: false,
      stderr: false,
    });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new ModelLoadAbortedError(
              `loading the model file took longer than ${timeoutMs / 1000} s (--model_load_timeout_seconds); stopped`,
            ),
          ),
        ),
      timeoutMs,
    );
    worker.on('message', (reply: Reply) => finish(() => resolve(reply)));
    worker.on('error', (err: Error & { code?: string }) =>
      finish(() =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new ModelLoadAbortedError(
                `loading the model file needed more than ${maxMemoryMb} MiB of heap (--model_load_max_memory_mb); stopped`,
              )
            : new Error(`model load worker failed: ${err.message}`),
        ),
      ),
    );
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`model load worker exited with code ${code} before answering`))),
    );
  });
}
