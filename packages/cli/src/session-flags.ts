import type { FlagSpec, ParsedFlagsOf } from '@servekit/core';
import type { OrtSessionOptions } from '@servekit/onnx/model';

/** onnxruntime session options as OnnxModel takes them. */
export type { OrtSessionOptions };

/** Graph optimization levels onnxruntime accepts. */
export const GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'layout', 'all'] as const;

/** Where an onnxruntime session runs (OnnxModel's `execution`). */
export const SESSION_EXECUTIONS = ['auto', 'worker', 'main'] as const;

/** `servekit serve` flags that tune the onnxruntime sessions of ONNX, XGBoost and LightGBM models. */
export const SESSION_FLAGS = [
  {
    name: 'intra_op_threads',
    type: 'number',
    doc: 'onnxruntime threads used inside one operator (default: one per core; set it to the CPU limit).',
  },
  {
    name: 'inter_op_threads',
    type: 'number',
    doc: 'onnxruntime threads running independent operators in parallel (default: chosen by onnxruntime).',
  },
  {
    name: 'graph_optimization_level',
    type: 'string',
    choices: GRAPH_OPTIMIZATION_LEVELS,
    doc: `onnxruntime graph optimizations: ${GRAPH_OPTIMIZATION_LEVELS.join(', ')} (default: all).`,
  },
  {
    name: 'execution_providers',
    type: 'string',
    doc: 'onnxruntime execution providers in order of preference, comma separated, e.g. cuda,cpu (default: cpu).',
  },
  {
    name: 'session_execution',
    type: 'string',
    choices: SESSION_EXECUTIONS,
    doc: 'Where ONNX and scikit-learn sessions run: auto (small models on the event loop, moved to a worker thread once their runs block it), worker, main (default: auto).',
  },
] as const satisfies readonly FlagSpec[];

/** Parsed values of SESSION_FLAGS. */
export type SessionFlags = ParsedFlagsOf<typeof SESSION_FLAGS>;

function threads(flags: Partial<SessionFlags>, name: 'intra_op_threads' | 'inter_op_threads'): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 0) {
    throw new Error(`--${name}: expected a whole number of threads (0 = onnxruntime's default), got ${String(v)}`);
  }
  return v;
}

/**
 * The onnxruntime session options the session flags ask for; undefined when none is set (onnxruntime's and
 * OnnxModel's defaults apply). Throws on a value onnxruntime would refuse, so the CLI stops before serving.
 */
export function sessionOptionsFromFlags(flags: Partial<SessionFlags>): OrtSessionOptions | undefined {
  const options: OrtSessionOptions = {};
  const intra = threads(flags, 'intra_op_threads');
  const inter = threads(flags, 'inter_op_threads');
  if (intra !== undefined) options.intraOpNumThreads = intra;
  if (inter !== undefined) options.interOpNumThreads = inter;
  const level = flags.graph_optimization_level;
  if (level !== undefined) options.graphOptimizationLevel = level;
  const providers = flags.execution_providers;
  if (providers !== undefined) {
    const list = providers
      .split(',')
      .map((p) => p.trim().toLowerCase())
      .filter((p) => p !== '');
    if (list.length === 0) throw new Error('--execution_providers: name at least one provider, e.g. cpu');
    options.executionProviders = list;
  }
  return Object.keys(options).length > 0 ? options : undefined;
}
