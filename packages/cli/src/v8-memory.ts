import { setFlagsFromString } from 'node:v8';

/**
 * `--v8_optimize_for_size`: V8's "favor memory size over execution speed" mode (`--optimize-for-size`), set at run
 * time (V8 reads it as the heap grows and collects, unlike `--max-semi-space-size`, which only the command line or
 * NODE_OPTIONS can set). Under load it keeps the young generation and the old generation's growth small: the
 * server's RSS after load is 7–11 MiB lower, but CPU per request about doubles (less optimized code), so it is off by
 * default (bench/RESULTS.md, "Issue 15, cold start and RSS: the CLI bundle").
 */
export function applyV8OptimizeForSize(enabled: boolean): void {
  if (enabled) setFlagsFromString('--optimize-for-size');
}
