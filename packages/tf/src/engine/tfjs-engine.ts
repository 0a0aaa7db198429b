import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import type { Datatype, InferTensor, TensorData } from '@servekit/core';
import { fromBFloat16Bits, fromFloat16Bits, InvalidInput, toBFloat16Bits, toFloat16Bits } from '@servekit/core';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { dtypeName, tfjsDtype, v2Datatype } from '../graph/dtypes.js';
import { UnservableSignature } from '../graph/freeze.js';
import type { FrozenGraph, FrozenTensor } from '../graph/frozen-graph.js';
import { toTfjsArtifacts } from './tfjs-artifacts.js';
import { tfjsSupportedOps } from './tfjs-ops.js';

/** tfjs backends servekit can run SavedModels on. */
export type TfjsBackendName = 'wasm' | 'cpu';

let wasmPathsSet = false;
let queue: Promise<unknown> = Promise.resolve();

/** Run `fn` after every earlier engine call finished (tfjs has one global backend and engine). */
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

/** Make `name` tfjs's active backend; wasm loads its SIMD binary from the installed package (nothing downloaded). */
export async function activateBackend(name: TfjsBackendName): Promise<void> {
  // Silences tfjs's "install tfjs-node" banner and debug-mode checks.
  tf.env().set('PROD', true);
  if (name === 'wasm' && !wasmPathsSet) {
    const require = createRequire(import.meta.url);
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    setWasmPaths(`${dist}/`);
    wasmPathsSet = true;
  }
  if (tf.getBackend() === name) return;
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs backend "${name}" failed to initialise`);
}

/** Refuse a frozen graph that holds ops tfjs-converter cannot execute, naming the ops. */
export function checkTfjsOps(graph: FrozenGraph): void {
  const supported = tfjsSupportedOps();
  const missing = new Map<string, string>();
  for (const n of graph.nodes) if (!supported.has(n.op) && !missing.has(n.op)) missing.set(n.op, n.name);
  if (missing.size > 0) {
    const list = [...missing].map(([op, node]) => `${op} (node "${node}")`).join(', ');
    throw new UnservableSignature(graph.signature, `tfjs has no kernel for op ${list}`);
  }
  for (const t of [...graph.inputs, ...graph.outputs]) {
    if (tfjsDtype(t.dtype) === undefined || v2Datatype(t.dtype) === undefined) {
      throw new UnservableSignature(
        graph.signature,
        `tensor "${t.key}" has dtype ${dtypeName(t.dtype)}, which is not supported`,
      );
    }
  }
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Request data as the typed array tfjs takes for `dtype`; integers outside int32 are rejected. */
function toTfjsValues(t: InferTensor, spec: FrozenTensor): tf.TypedArray | Uint8Array[] {
  const dtype = tfjsDtype(spec.dtype);
  const data = t.data;
  if (dtype === 'string') {
    if (!Array.isArray(data)) throw new InvalidInput(`Input "${spec.key}" must be BYTES.`);
    return data.map((s) => (typeof s === 'string' ? new TextEncoder().encode(s) : s));
  }
  if (Array.isArray(data))
    throw new InvalidInput(`Input "${spec.key}" is BYTES but the signature wants ${dtypeName(spec.dtype)}.`);
  if (dtype === 'float32') {
    if (data instanceof Float32Array) return data;
    if (t.datatype === 'FP16') return Float32Array.from(data as Uint16Array, fromFloat16Bits);
    if (t.datatype === 'BF16') return Float32Array.from(data as Uint16Array, fromBFloat16Bits);
    return Float32Array.from(data as ArrayLike<number>, Number);
  }
  if (dtype === 'bool') return Uint8Array.from(data as ArrayLike<number>, (v) => (Number(v) ? 1 : 0));
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (v < INT32_MIN || v > INT32_MAX || !Number.isInteger(v)) {
      throw new InvalidInput(`Input "${spec.key}": value ${data[i]} does not fit the engine's 32-bit integers.`);
    }
    out[i] = v;
  }
  return out;
}

/** tfjs output values as the V2 typed array of the signature's dtype. */
function fromTfjsValues(values: tf.TypedArray | Uint8Array[] | string[], datatype: Datatype): TensorData {
  if (datatype === 'BYTES') return (values as Array<Uint8Array | string>).slice();
  const v = values as ArrayLike<number>;
  switch (datatype) {
    case 'FP32':
      return v instanceof Float32Array ? v.slice() : Float32Array.from(v);
    case 'FP64':
      return Float64Array.from(v);
    case 'FP16':
      return Uint16Array.from(v, toFloat16Bits);
    case 'BF16':
      return Uint16Array.from(v, toBFloat16Bits);
    case 'INT64':
      return BigInt64Array.from(v, (x) => BigInt(Math.trunc(x)));
    case 'UINT64':
      return BigUint64Array.from(v, (x) => BigInt(Math.trunc(x)));
    case 'INT32':
      return Int32Array.from(v);
    case 'INT16':
      return Int16Array.from(v);
    case 'INT8':
      return Int8Array.from(v);
    case 'UINT32':
      return Uint32Array.from(v);
    case 'UINT16':
      return Uint16Array.from(v);
    case 'UINT8':
    case 'BOOL':
      return Uint8Array.from(v);
  }
}

/** A frozen signature loaded into a tfjs-converter GraphModel on one backend. */
export class TfjsSignatureRunner {
  /** The frozen graph it runs. */
  readonly graph: FrozenGraph;
  /** Backend it runs on. */
  readonly backend: TfjsBackendName;
  private readonly model: GraphModel;
  private readonly weightIds: Set<number>;
  private needsAsync = false;

  private constructor(graph: FrozenGraph, backend: TfjsBackendName, model: GraphModel) {
    this.graph = graph;
    this.backend = backend;
    this.model = model;
    this.weightIds = new Set(Object.values(model.weights).flatMap((ts) => ts.map((t) => t.id)));
  }

  /** Check the graph's ops, then load it into a GraphModel on `backend`. */
  static load(graph: FrozenGraph, backend: TfjsBackendName): Promise<TfjsSignatureRunner> {
    checkTfjsOps(graph);
    const artifacts = toTfjsArtifacts(graph);
    return serialized(async () => {
      await activateBackend(backend);
      const model = await loadGraphModel({ load: async () => artifacts });
      return new TfjsSignatureRunner(graph, backend, model);
    });
  }

  /** Run the graph on `inputs` (one per signature input, matched by key); returns one tensor per signature output. */
  run(inputs: ReadonlyMap<string, InferTensor>): Promise<InferTensor[]> {
    return serialized(async () => {
      await activateBackend(this.backend);
      const feeds: tf.NamedTensorMap = {};
      const created: tf.Tensor[] = [];
      try {
        for (const spec of this.graph.inputs) {
          const t = inputs.get(spec.key);
          if (t === undefined)
            throw new InvalidInput(`Missing input "${spec.key}" of signature "${this.graph.signature}".`);
          const values = toTfjsValues(t, spec);
          const tensor =
            tfjsDtype(spec.dtype) === 'string'
              ? tf.tensor(values as Uint8Array[], t.shape, 'string')
              : tf.tensor(values as tf.TypedArray, t.shape, tfjsDtype(spec.dtype));
          created.push(tensor);
          feeds[spec.tensor] = tensor;
        }
        const names = this.graph.outputs.map((o) => o.tensor);
        let result: tf.Tensor | tf.Tensor[];
        if (this.needsAsync) result = await this.model.executeAsync(feeds, names);
        else {
          try {
            result = this.model.execute(feeds, names);
          } catch (err) {
            if (!/executeAsync/.test((err as Error).message)) throw err;
            this.needsAsync = true;
            result = await this.model.executeAsync(feeds, names);
          }
        }
        const outs = Array.isArray(result) ? result : [result];
        const inputIds = new Set(created.map((t) => t.id));
        try {
          return this.graph.outputs.map((spec, i) => {
            const t = outs[i]!;
            const datatype = v2Datatype(spec.dtype)!;
            return { name: spec.key, datatype, shape: [...t.shape], data: fromTfjsValues(t.dataSync(), datatype) };
          });
        } finally {
          for (const t of outs) if (!inputIds.has(t.id) && !this.weightIds.has(t.id)) t.dispose();
        }
      } finally {
        for (const t of created) t.dispose();
      }
    });
  }

  /** Free the weights. */
  dispose(): void {
    this.model.dispose();
  }
}
