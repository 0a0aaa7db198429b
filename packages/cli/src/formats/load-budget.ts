import type { ServeFlags } from '../flags.js';

/** A numeric flag that must be > 0 when given; throws naming the flag otherwise. */
export function positiveFlag(
  flags: Partial<ServeFlags>,
  name: 'model_load_timeout_seconds' | 'model_load_max_memory_mb' | 'model_max_bytes',
): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (!(v > 0)) throw new Error(`--${name} must be a positive number; got "${v}"`);
  return v;
}

/** The budgets of a model load in its worker thread (`--model_load_timeout_seconds`, `--model_load_max_memory_mb`). */
export function loadBudgetFromFlags(flags: Partial<ServeFlags>): { loadTimeoutMs?: number; loadMaxMemoryMb?: number } {
  const seconds = positiveFlag(flags, 'model_load_timeout_seconds');
  const memory = positiveFlag(flags, 'model_load_max_memory_mb');
  return {
    ...(seconds === undefined ? {} : { loadTimeoutMs: seconds * 1000 }),
    ...(memory === undefined ? {} : { loadMaxMemoryMb: memory }),
  };
}
