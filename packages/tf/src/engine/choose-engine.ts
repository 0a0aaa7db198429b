import type { InferTensor } from '@servekit/core';
import type { OrtSessionOptions } from '@servekit/onnx';
import { UnservableSignature } from '../graph/freeze.js';
import type { FrozenGraph } from '../graph/frozen-graph.js';
import { lowerFrozenGraph, UnsupportedTfOps, unmappedOps } from '../onnx/index.js';
import { OnnxSignatureRunner, type SignatureRunner } from './onnx-engine.js';
import {
  compareOutputs,
  DEFAULT_PROBE_TOLERANCE,
  describeDifference,
  type ProbeComparison,
  type ProbeTolerance,
  probeCandidates,
  probeInputs,
} from './probe.js';
import { type TfjsBackendName, TfjsSignatureRunner } from './tfjs-engine.js';

/** The engines a TensorFlow signature can run on. */
export type TfEngineName = 'onnx' | 'tfjs';

/** What `loadSavedModel` is asked for: `auto` (ONNX when every op lowers and the probe agrees), or a forced engine. */
export type TfEngineChoice = 'auto' | TfEngineName;

/** Where engine decisions are logged (the server's logger in `servekit serve`). */
export interface EngineLogger {
  /** An engine choice and its reason. */
  info(message: string): void;
  /** A fallback (ONNX refused, outputs differ…). */
  warn(message: string): void;
}

/** Options of `chooseEngine`. */
export interface ChooseEngineOptions {
  /** `auto` (default), `onnx` or `tfjs`. */
  engine?: TfEngineChoice;
  /** tfjs backend. */
  backend: TfjsBackendName;
  /** onnxruntime session options of the ONNX path. */
  sessionOptions?: OrtSessionOptions;
  /** Tolerance of the load-time comparison (default 1e-4 relative + 1e-5 absolute). */
  probeTolerance?: ProbeTolerance;
}

/** The engine serving one signature, and why. */
export interface ChosenEngine {
  /** The runner. */
  runner: SignatureRunner;
  /** Which engine it is. */
  engine: TfEngineName;
  /** Why it was chosen, in words (logged, and kept in `SignatureInfo.engineReason`). */
  reason: string;
  /** True when the reason is a fallback the operator should see (logged as a warning). */
  fallback: boolean;
}

const opList = (ops: string[]): string => ops.join(', ');
const message = (err: unknown): string => (err instanceof UnservableSignature ? err.reason : (err as Error).message);

/** A signature the ONNX lowering cannot lower (ops without a mapping, or op configurations it does not handle). */
export class NotLowerable extends UnservableSignature {}

/** Lower `graph` and open its onnxruntime session; throws NotLowerable naming the ops, or onnxruntime's error. */
export async function loadOnnxRunner(
  graph: FrozenGraph,
  sessionOptions: OrtSessionOptions | undefined,
): Promise<OnnxSignatureRunner> {
  const missing = unmappedOps(graph);
  if (missing.length > 0) {
    throw new NotLowerable(graph.signature, `cannot lower to ONNX: no ONNX lowering for op ${opList(missing)}`);
  }
  let bytes: Uint8Array;
  try {
    // Signature shapes are not the graph's constraint in TensorFlow (nor in tfjs): inputs are declared without
    // shapes, so every shape the graph's ops accept runs (fixtures README item 10), as on the tfjs path.
    bytes = lowerFrozenGraph(graph, { relaxInputShapes: true }).bytes;
  } catch (err) {
    if (err instanceof UnsupportedTfOps) throw new NotLowerable(graph.signature, err.message);
    throw new UnservableSignature(graph.signature, `lowering to ONNX failed: ${(err as Error).message}`);
  }
  return OnnxSignatureRunner.load(graph, bytes, sessionOptions);
}

/** Describe a probe input set for messages: `x [2,1], y [2]`. */
function describeProbe(inputs: Map<string, InferTensor>): string {
  if (inputs.size === 0) return 'no inputs';
  return [...inputs.values()].map((t) => `${t.name} ${JSON.stringify(t.shape)}`).join(', ');
}

/** The probe verdict: both engines on deterministic inputs, ONNX compared with tfjs. */
interface ProbeResult {
  comparison?: ProbeComparison;
  inputs?: string;
  /** Set when the probe could not be run (tfjs or ONNX failed on every candidate input). */
  failed?: string;
  /** The engine that failed, when one did on an input the other ran. */
  failedEngine?: TfEngineName;
}

async function probe(
  graph: FrozenGraph,
  onnx: SignatureRunner,
  tfjs: SignatureRunner,
  tol: ProbeTolerance,
): Promise<ProbeResult> {
  let lastTfjsError = '';
  for (let which = 0; which < probeCandidates(graph); which++) {
    const inputs = probeInputs(graph, which);
    let want: InferTensor[];
    try {
      want = await tfjs.run(inputs);
    } catch (err) {
      lastTfjsError = message(err);
      continue;
    }
    let got: InferTensor[];
    try {
      got = await onnx.run(inputs);
    } catch (err) {
      return { failed: message(err), failedEngine: 'onnx', inputs: describeProbe(inputs) };
    }
    return { comparison: compareOutputs(got, want, tol), inputs: describeProbe(inputs) };
  }
  return { failed: `tfjs could not run any probe input (${lastTfjsError})` };
}

/**
 * Pick and load the engine of one frozen signature. `tfjs` and `onnx` force one (a forced engine that cannot run
 * the graph makes the signature unservable: UnservableSignature with the reason, ops named). `auto`: when every op
 * lowers, both engines run once on a deterministic probe input and ONNX serves if all outputs agree within the
 * tolerance; otherwise tfjs serves and the reason (ops, largest difference, onnxruntime's error) is returned. The
 * engine not chosen is disposed.
 */
export async function chooseEngine(graph: FrozenGraph, options: ChooseEngineOptions): Promise<ChosenEngine> {
  const engine = options.engine ?? 'auto';
  if (engine === 'tfjs') {
    return {
      runner: await TfjsSignatureRunner.load(graph, options.backend),
      engine,
      reason: 'forced',
      fallback: false,
    };
  }
  if (engine === 'onnx') {
    const runner = await loadOnnxRunner(graph, options.sessionOptions);
    return { runner, engine, reason: 'forced', fallback: false };
  }
  let onnx: OnnxSignatureRunner;
  try {
    onnx = await loadOnnxRunner(graph, options.sessionOptions);
  } catch (err) {
    let runner: TfjsSignatureRunner;
    try {
      runner = await TfjsSignatureRunner.load(graph, options.backend);
    } catch (tfjsErr) {
      if (!(tfjsErr instanceof UnservableSignature)) throw tfjsErr;
      throw new UnservableSignature(graph.signature, `${message(err)}; and ${tfjsErr.reason}`);
    }
    // Ops the lowering does not cover are expected (logged as info); onnxruntime refusing a lowering is a warning.
    return { runner, engine: 'tfjs', reason: message(err), fallback: !(err instanceof NotLowerable) };
  }
  let tfjs: TfjsSignatureRunner;
  try {
    tfjs = await TfjsSignatureRunner.load(graph, options.backend);
  } catch (err) {
    if (!(err instanceof UnservableSignature)) {
      await onnx.dispose();
      throw err;
    }
    return {
      runner: onnx,
      engine: 'onnx',
      reason: `tfjs cannot run it (${err.reason}), so the ONNX path is not verified against tfjs`,
      fallback: true,
    };
  }
  const tol = options.probeTolerance ?? DEFAULT_PROBE_TOLERANCE;
  const result = await probe(graph, onnx, tfjs, tol);
  const useOnnx = result.comparison?.agree === true;
  if (useOnnx) tfjs.dispose();
  else await onnx.dispose();
  if (result.failed !== undefined) {
    const reason =
      result.failedEngine === 'onnx'
        ? `onnxruntime failed on the probe input (${result.inputs}) that tfjs ran: ${result.failed}`
        : `the ONNX path could not be verified: ${result.failed}`;
    return { runner: tfjs, engine: 'tfjs', reason, fallback: true };
  }
  const c = result.comparison!;
  const tolerance = `${tol.rtol} relative + ${tol.atol} absolute`;
  if (useOnnx) {
    const diff = c.worst === undefined ? 'identical outputs' : `largest |diff| ${c.worst.abs.toExponential(2)}`;
    return {
      runner: onnx,
      engine: 'onnx',
      reason: `every op lowers and the probe (${result.inputs}) matches tfjs within ${tolerance} (${diff})`,
      fallback: false,
    };
  }
  const why = c.mismatch ?? describeDifference(c.worst!, 'onnx', 'tfjs');
  return {
    runner: tfjs,
    engine: 'tfjs',
    reason: `the ONNX path differs from tfjs on the probe (${result.inputs}) beyond ${tolerance}: ${why}`,
    fallback: true,
  };
}
