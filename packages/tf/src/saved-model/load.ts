import { join } from 'node:path';
import type { InferTensor, TensorMetadata } from '@servekit/core';
import { InvalidInput, NotImplemented } from '@servekit/core';
import type { OrtSessionOptions } from '@servekit/onnx';
import {
  type ChosenEngine,
  chooseEngine,
  type EngineLogger,
  type TfEngineChoice,
  type TfEngineName,
} from '../engine/choose-engine.js';
import type { SignatureRunner } from '../engine/onnx-engine.js';
import type { ProbeTolerance } from '../engine/probe.js';
import type { TfjsBackendName } from '../engine/tfjs-engine.js';
import { dtypeName, v2Datatype } from '../graph/dtypes.js';
import { flattenGraph, type OpRegistry } from '../graph/flatten.js';
import { freezeSignature, UnservableSignature } from '../graph/freeze.js';
import type { FrozenGraph } from '../graph/frozen-graph.js';
import { shapeDims } from '../graph/host-tensor.js';
import { variableCheckpointKeys } from '../graph/variables.js';
import type { SignatureDefMsg, TensorInfoMsg } from '../proto/tf-schema.js';
import { readSavedModel } from './reader.js';
import { discoverSavedModelVersions } from './versions.js';

/** Options of `loadSavedModel`. */
export interface LoadSavedModelOptions {
  /** tfjs backend: `wasm` (SIMD, default) or `cpu`. */
  backend?: TfjsBackendName;
  /** MetaGraph tags to load (default `['serve']`). */
  tags?: string[];
  /** Version folder to load when `dir` is a TF Serving model root (default: the highest). */
  version?: string;
  /** Verify the CRC32C of every checkpoint entry at load, not only the variables served (default true). */
  verifyAllChecksums?: boolean;
  /**
   * Engine per signature: `auto` (default) lowers the signature to ONNX and serves it on onnxruntime-node when
   * every op maps and both engines agree on a probe input (else tfjs, with the reason logged); `onnx` forces
   * onnxruntime (a signature that cannot be lowered is unservable, ops named); `tfjs` forces tfjs.
   */
  engine?: TfEngineChoice;
  /** onnxruntime session options of the ONNX path (threads, graph optimization level, execution providers). */
  sessionOptions?: OrtSessionOptions;
  /** Receives one line per signature: the engine serving it and why (warnings for fallbacks). */
  logger?: EngineLogger;
  /**
   * Tolerance of the load-time ONNX-vs-tfjs comparison under `auto` (default 1e-4 relative + 1e-5 absolute).
   * For diagnostics and tests: `{ rtol: 0, atol: 0 }` demands bit-identical outputs.
   */
  probeTolerance?: ProbeTolerance;
}

/** The name TF Serving uses for a model's default signature. */
export const DEFAULT_SIGNATURE = 'serving_default';

/** One signature of a loaded SavedModel. */
export interface SignatureInfo {
  /** Signature key, e.g. `serving_default`. */
  name: string;
  /** SignatureDef method, e.g. `tensorflow/serving/predict`. */
  methodName: string;
  /** Inputs with V2 datatypes and shapes (-1 for unknown dims; `[-1]` when the rank is unknown). */
  inputs: TensorMetadata[];
  /** Outputs likewise. */
  outputs: TensorMetadata[];
  /** Why the signature cannot be served, when it cannot (requests to it are refused with this reason). */
  unservable?: string;
  /** The engine serving it (`onnx`: lowered to ONNX on onnxruntime-node; `tfjs`), when servable. */
  engine?: TfEngineName;
  /** Why that engine serves it (e.g. `forced`, the ops the lowering lacks, the probe's largest difference). */
  engineReason?: string;
}

/** A SavedModel loaded for inference. */
export interface SavedModelHandle {
  /** Directory the SavedModel was read from. */
  readonly dir: string;
  /** Version folder name (TF Serving layout), when loaded from one. */
  readonly version: string | undefined;
  /** TF version that wrote the model (MetaInfoDef), if recorded. */
  readonly tensorflowVersion: string | undefined;
  /** Every signature (except internal `__…` ones), servable or not. */
  readonly signatures: SignatureInfo[];
  /** The signature used when a request names none: `serving_default`, or the only signature. */
  readonly defaultSignature: string | undefined;
  /** tfjs backend in use. */
  readonly backend: TfjsBackendName;
  /** Look up a signature (undefined → the default); throws InvalidInput for unknown names. */
  signature(name?: string): SignatureInfo;
  /** The frozen graph of a servable signature. */
  frozenGraph(name: string): FrozenGraph | undefined;
  /** Run a signature (undefined → the default) on named inputs; returns its outputs in signature order. */
  run(signatureName: string | undefined, inputs: InferTensor[]): Promise<InferTensor[]>;
  /** Free engine memory and stop onnxruntime worker threads. */
  dispose(): Promise<void>;
}

function tensorMeta(key: string, info: TensorInfoMsg): TensorMetadata {
  const dims = shapeDims(info.tensor_shape);
  return { name: key, datatype: v2Datatype(info.dtype ?? 0) ?? 'BYTES', shape: dims === undefined ? [-1] : dims };
}

function signatureInfo(name: string, sig: SignatureDefMsg): SignatureInfo {
  return {
    name,
    methodName: sig.method_name ?? '',
    inputs: Object.entries(sig.inputs ?? {}).map(([k, v]) => tensorMeta(k, v)),
    outputs: Object.entries(sig.outputs ?? {}).map(([k, v]) => tensorMeta(k, v)),
  };
}

/** One line for the log: which engine serves a signature and why. */
function engineLine(info: SignatureInfo, chosen: ChosenEngine, engine: TfEngineChoice): string {
  const how = chosen.reason === 'forced' ? `forced (engine: ${engine})` : chosen.reason;
  return `signature "${info.name}": ${chosen.engine === 'onnx' ? 'onnx (onnxruntime-node)' : 'tfjs'}: ${how}`;
}

/** A SavedModel read and frozen, engine-independent: what tfjs loading and ONNX lowering both start from. */
export interface FrozenSavedModel {
  /** Directory holding `saved_model.pb`. */
  dir: string;
  /** Version folder (TF Serving layout), when loaded from one. */
  version: string | undefined;
  /** TF version that wrote the model, if recorded. */
  tensorflowVersion: string | undefined;
  /** Every signature (internal `__…` ones excluded); unservable ones carry `unservable` and no graph. */
  signatures: Array<{ info: SignatureInfo; graph?: FrozenGraph }>;
}

/** Options of `freezeSavedModel`. */
export type FreezeOptions = Omit<LoadSavedModelOptions, 'backend'>;

/**
 * Read a SavedModel (a SavedModel dir, or a TF Serving model root: newest version unless `options.version`), check
 * its checkpoint, and freeze each signature: inline function calls, replace variables with checkpoint values, prune to
 * the signature outputs. Throws on malformed files; signatures that cannot be served get `info.unservable`.
 */
export function freezeSavedModel(dir: string, options: FreezeOptions = {}): FrozenSavedModel {
  const versions = discoverSavedModelVersions(dir);
  const wanted = options.version === undefined ? undefined : String(BigInt(options.version));
  const chosen = wanted === undefined ? versions[versions.length - 1]! : versions.find((v) => v.version === wanted);
  if (chosen === undefined)
    throw new Error(`${dir} has no version ${options.version} (has ${versions.map((v) => v.version).join(', ')})`);
  const { meta, checkpoint } = readSavedModel(chosen.path, options.tags ?? ['serve']);
  if (checkpoint !== undefined && options.verifyAllChecksums !== false) {
    for (const key of checkpoint.keys()) checkpoint.read(key);
  }
  const registry: OpRegistry = {
    ops: new Map((meta.meta_info_def?.stripped_op_list?.op ?? []).map((o) => [o.name, o])),
    functions: new Map((meta.graph_def?.library?.function ?? []).map((f) => [f.signature.name, f])),
  };
  const where = join(chosen.path, 'saved_model.pb');
  let flat: ReturnType<typeof flattenGraph>;
  try {
    flat = flattenGraph(meta.graph_def?.node ?? [], registry, meta.meta_info_def?.stripped_default_attrs ?? false);
  } catch (err) {
    throw new Error(`${where}: cannot inline the graph's functions: ${(err as Error).message}`);
  }
  const vars = { keys: variableCheckpointKeys(meta, checkpoint), checkpoint };
  const signatures: FrozenSavedModel['signatures'] = [];
  for (const [name, sig] of Object.entries(meta.signature_def ?? {})) {
    if (name.startsWith('__')) continue;
    const info = signatureInfo(name, sig);
    try {
      signatures.push({ info, graph: freezeSignature(name, sig, flat, vars) });
    } catch (err) {
      if (!(err instanceof UnservableSignature)) throw err;
      info.unservable = err.reason;
      signatures.push({ info });
    }
  }
  if (signatures.length === 0) throw new Error(`${where} has no signatures to serve`);
  return {
    dir: chosen.path,
    version: chosen.version,
    tensorflowVersion: meta.meta_info_def?.tensorflow_version,
    signatures,
  };
}

/**
 * Load a TensorFlow SavedModel without libtensorflow: `freezeSavedModel`, then give each servable signature an
 * engine (`options.engine`, see `chooseEngine`): its ONNX lowering on onnxruntime-node, or tfjs-converter on the
 * chosen backend. A signature no engine can run becomes unservable with the reason. The load fails only when the
 * files are malformed or no signature can be served.
 */
export async function loadSavedModel(dir: string, options: LoadSavedModelOptions = {}): Promise<SavedModelHandle> {
  const backend = options.backend ?? 'wasm';
  const engine = options.engine ?? 'auto';
  const frozen = freezeSavedModel(dir, options);
  const chosen = { path: frozen.dir, version: frozen.version };
  const where = join(frozen.dir, 'saved_model.pb');
  const signatures = frozen.signatures.map((s) => s.info);
  const runners = new Map<string, SignatureRunner>();
  const disposeAll = async (): Promise<void> => {
    await Promise.all([...runners.values()].map((r) => r.dispose()));
    runners.clear();
  };
  try {
    for (const { info, graph } of frozen.signatures) {
      if (graph === undefined) {
        options.logger?.info(`signature "${info.name}" is not served: ${info.unservable}`);
        continue;
      }
      try {
        const picked = await chooseEngine(graph, {
          engine,
          backend,
          sessionOptions: options.sessionOptions,
          probeTolerance: options.probeTolerance,
        });
        runners.set(info.name, picked.runner);
        info.engine = picked.engine;
        info.engineReason = picked.reason;
        const line = engineLine(info, picked, engine);
        if (picked.fallback) options.logger?.warn(line);
        else options.logger?.info(line);
      } catch (err) {
        if (!(err instanceof UnservableSignature)) throw err;
        info.unservable = err.reason;
        options.logger?.warn(`signature "${info.name}" cannot be served: ${err.reason}`);
      }
    }
  } catch (err) {
    await disposeAll();
    throw err;
  }
  if (runners.size === 0) {
    const why = signatures.map((s) => `"${s.name}": ${s.unservable}`).join('; ');
    throw new Error(`${where}: no signature can be served (${why})`);
  }
  const defaultSignature = signatures.some((s) => s.name === DEFAULT_SIGNATURE)
    ? DEFAULT_SIGNATURE
    : signatures.length === 1
      ? signatures[0]!.name
      : undefined;

  const signature = (name?: string): SignatureInfo => {
    const wanted = name ?? defaultSignature;
    if (wanted === undefined) {
      throw new InvalidInput(
        `This model has no "${DEFAULT_SIGNATURE}" signature; name one of: ${signatures.map((s) => s.name).join(', ')}.`,
      );
    }
    const found = signatures.find((s) => s.name === wanted);
    if (found === undefined) {
      throw new InvalidInput(
        `Signature "${wanted}" not found; the model has: ${signatures.map((s) => s.name).join(', ')}.`,
      );
    }
    return found;
  };

  return {
    dir: chosen.path,
    version: chosen.version,
    tensorflowVersion: frozen.tensorflowVersion,
    signatures,
    defaultSignature,
    backend,
    signature,
    frozenGraph: (name) => runners.get(name)?.graph,
    async run(signatureName, inputs) {
      const info = signature(signatureName);
      if (info.unservable !== undefined) {
        throw new NotImplemented(`Signature "${info.name}" cannot be served: ${info.unservable}.`);
      }
      const runner = runners.get(info.name)!;
      const byKey = new Map<string, InferTensor>();
      for (const t of inputs) {
        const spec = runner.graph.inputs.find((i) => i.key === t.name);
        if (spec === undefined) {
          throw new InvalidInput(
            `Signature "${info.name}" has no input "${t.name}" (inputs: ${runner.graph.inputs.map((i) => i.key).join(', ') || 'none'}).`,
          );
        }
        if (byKey.has(t.name)) throw new InvalidInput(`Input "${t.name}" is given twice.`);
        const want = v2Datatype(spec.dtype);
        if (t.datatype !== want) {
          throw new InvalidInput(
            `Input "${t.name}" is ${t.datatype}; signature "${info.name}" expects ${want} (${dtypeName(spec.dtype)}).`,
          );
        }
        byKey.set(t.name, t);
      }
      for (const spec of runner.graph.inputs) {
        if (!byKey.has(spec.key)) throw new InvalidInput(`Signature "${info.name}" needs input "${spec.key}".`);
      }
      try {
        return await runner.run(byKey);
      } catch (err) {
        // Signature shapes are not always the graph's real constraint (fixtures README item 10), so shapes are
        // checked by the engine; its shape errors are the client's, reported with what the signature declares.
        const message = (err as Error).message ?? String(err);
        if (!/shape|dimension|rank|size/i.test(message)) throw err;
        const declared = info.inputs.map((i) => `${i.name} ${JSON.stringify(i.shape)}`).join(', ');
        const got = inputs.map((t) => `${t.name} ${JSON.stringify(t.shape)}`).join(', ');
        throw new InvalidInput(`Signature "${info.name}" cannot run on ${got} (declared: ${declared}): ${message}`);
      }
    },
    dispose: disposeAll,
  };
}
