import { setFlagsFromString } from 'node:v8';

/** The V8 memory settings `servekit serve` takes as flags. */
export interface V8MemoryFlags {
  /** `--v8_optimize_for_size`. */
  v8_optimize_for_size: boolean;
  /** `--v8_heap_growing_percent` (0: V8's default). */
  v8_heap_growing_percent: number;
}

/**
 * Applies the V8 memory flags, set at run time: V8 reads both as the heap grows and collects (unlike
 * `--max-semi-space-size`, which only the command line or NODE_OPTIONS can set).
 * - `--v8_optimize_for_size`: V8's "favor memory size over execution speed" mode. Under load the server's RSS is
 *   7–11 MiB lower, but CPU per request about doubles (less optimized code).
 * - `--v8_heap_growing_percent N`: the old generation's limit grows by N % after each full collection instead of
 *   V8's own factor (up to 4×), so objects promoted under load are collected sooner: with 10, RSS after 5 s of load
 *   is 4–20 MiB lower for 1–23 % more CPU per request.
 * Both are off by default (bench/RESULTS.md, "Issue 15, cold start and RSS: the CLI bundle").
 */
export function applyV8MemoryFlags(flags: V8MemoryFlags): void {
  if (flags.v8_optimize_for_size) setFlagsFromString('--optimize-for-size');
  const percent = flags.v8_heap_growing_percent;
  if (percent !== 0) {
    if (!Number.isInteger(percent) || percent < 1 || percent > 300) {
      throw new Error(`--v8_heap_growing_percent must be an integer from 1 to 300 (0: V8's default), got ${percent}`);
    }
    setFlagsFromString(`--heap-growing-percent=${percent}`);
  }
}
