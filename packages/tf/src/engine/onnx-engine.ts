import {
  type Datatype,
  fromBFloat16Bits,
  fromFloat16Bits,
  type InferTensor,
  InvalidInput,
  type TensorData,
  toBFloat16Bits,
  toFloat16Bits,
} from '@servekit/core';
import {
  DEFAULT_SESSION_OPTIONS,
  type OrtSessionOptions,
  type SessionInfo,
  V2_TO_ORT,
  type WireTensor,
  WorkerSession,
} from '@servekit/onnx';
import { dtypeName, v2Datatype } from '../graph/dtypes.js';
import { UnservableSignature } from '../graph/freeze.js';
import type { FrozenGraph, FrozenTensor } from '../graph/frozen-graph.js';

/** onnxruntime tensor element type names. */
type OrtType = WireTensor['type'];

/** What every engine that runs a frozen signature offers (tfjs and ONNX). */
export interface SignatureRunner {
  /** The frozen graph it runs. */
  readonly graph: FrozenGraph;
  /** Run on `inputs` (one per signature input, matched by key); returns one tensor per signature output. */
  run(inputs: ReadonlyMap<string, InferTensor>): Promise<InferTensor[]>;
  /** Free the engine's memory (and threads). */
  dispose(): void | Promise<void>;
}

const utf8 = new TextDecoder();
const BIG = new Set<OrtType>(['int64', 'uint64']);

/** Numbers of a numeric V2 tensor's data, decoding FP16/BF16 bit patterns. */
function numericValues(data: TensorData, datatype: Datatype): ArrayLike<number | bigint> {
  if (datatype === 'FP16') return Float32Array.from(data as Uint16Array, fromFloat16Bits);
  if (datatype === 'BF16') return Float32Array.from(data as Uint16Array, fromBFloat16Bits);
  return data as ArrayLike<number | bigint>;
}

/** Values as a typed array of onnxruntime type `type` (integers rounded toward zero; BigInt for 64-bit). */
function toOrtArray(values: ArrayLike<number | bigint>, type: OrtType): WireTensor['data'] {
  const n = values.length;
  const num = (i: number): number => Number(values[i]);
  switch (type) {
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => num(i));
    case 'float64':
      return Float64Array.from({ length: n }, (_, i) => num(i));
    case 'float16':
      return Uint16Array.from({ length: n }, (_, i) => toFloat16Bits(num(i)));
    case 'int8':
      return Int8Array.from({ length: n }, (_, i) => num(i));
    case 'int16':
      return Int16Array.from({ length: n }, (_, i) => num(i));
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => num(i));
    case 'uint8':
    case 'bool':
      return Uint8Array.from({ length: n }, (_, i) => num(i));
    case 'uint16':
      return Uint16Array.from({ length: n }, (_, i) => num(i));
    case 'uint32':
      return Uint32Array.from({ length: n }, (_, i) => num(i));
    case 'int64':
      return BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.trunc(num(i))));
    case 'uint64':
      return BigUint64Array.from({ length: n }, (_, i) => BigInt(Math.trunc(num(i))));
    default:
      throw new Error(`onnxruntime type ${type} cannot be fed from numbers`);
  }
}

/** onnxruntime output data as the V2 typed array of `datatype` (the signature's), copying only when types differ. */
function fromOrtArray(t: WireTensor, datatype: Datatype): TensorData {
  if (datatype === 'BYTES') return (t.data as string[]).slice();
  if (V2_TO_ORT[datatype] === t.type) return t.data as TensorData;
  const values = t.data as ArrayLike<number | bigint>;
  const n = values.length;
  const num = (i: number): number => Number(values[i]);
  switch (datatype) {
    case 'BF16':
      return Uint16Array.from({ length: n }, (_, i) => toBFloat16Bits(num(i)));
    case 'BOOL':
      return Uint8Array.from({ length: n }, (_, i) => (num(i) ? 1 : 0));
    default:
      return toOrtArray(values, V2_TO_ORT[datatype]!) as TensorData;
  }
}

/**
 * A frozen signature lowered to ONNX (`lowerFrozenGraph`), run by onnxruntime-node in a worker thread
 * (`WorkerSession` of @servekit/onnx), so inference stays off the event loop. ONNX inputs and outputs are named
 * by signature key; answers carry the signature's V2 datatypes and the shapes onnxruntime computed.
 */
export class OnnxSignatureRunner implements SignatureRunner {
  /** The frozen graph it was lowered from. */
  readonly graph: FrozenGraph;
  /** The ONNX ModelProto it runs. */
  readonly bytes: Uint8Array;
  /** Session options it was created with (servekit's defaults, then the caller's). */
  readonly sessionOptions: OrtSessionOptions;
  private readonly session: WorkerSession;
  private readonly inputTypes: Map<string, OrtType>;
  private readonly outputNames: Set<string>;

  private constructor(
    graph: FrozenGraph,
    bytes: Uint8Array,
    options: OrtSessionOptions,
    session: WorkerSession,
    info: SessionInfo,
  ) {
    this.graph = graph;
    this.bytes = bytes;
    this.sessionOptions = options;
    this.session = session;
    this.inputTypes = new Map(
      info.inputMetadata.map((m) => [m.name, (m.isTensor ? m.type : 'float32') as OrtType] as const),
    );
    this.outputNames = new Set(info.outputMetadata.map((m) => m.name));
  }

  /**
   * Create the onnxruntime session for `bytes` (the lowering of `graph`). Throws UnservableSignature when
   * onnxruntime refuses the model or its inputs/outputs do not match the signature's keys.
   */
  static async load(
    graph: FrozenGraph,
    bytes: Uint8Array,
    sessionOptions: OrtSessionOptions = {},
  ): Promise<OnnxSignatureRunner> {
    const options = { ...DEFAULT_SESSION_OPTIONS, ...sessionOptions };
    let created: Awaited<ReturnType<typeof WorkerSession.create>>;
    try {
      created = await WorkerSession.create(bytes, options);
    } catch (err) {
      throw new UnservableSignature(
        graph.signature,
        `onnxruntime cannot load its ONNX lowering: ${(err as Error).message}`,
      );
    }
    const runner = new OnnxSignatureRunner(graph, bytes, options, created.session, created.info);
    const missing = [
      ...graph.inputs.filter((t) => !runner.inputTypes.has(t.key)).map((t) => `input "${t.key}"`),
      ...graph.outputs.filter((t) => !runner.outputNames.has(t.key)).map((t) => `output "${t.key}"`),
    ];
    for (const t of [...graph.inputs, ...graph.outputs]) {
      if (v2Datatype(t.dtype) === undefined) missing.push(`"${t.key}" (dtype ${dtypeName(t.dtype)} has no V2 type)`);
    }
    if (missing.length > 0) {
      await runner.dispose();
      throw new UnservableSignature(graph.signature, `its ONNX lowering lacks ${missing.join(', ')}`);
    }
    return runner;
  }

  /** Run the session on `inputs`; datatypes must be the signature's (the caller checks names and datatypes). */
  async run(inputs: ReadonlyMap<string, InferTensor>): Promise<InferTensor[]> {
    const feeds: Record<string, WireTensor> = {};
    for (const spec of this.graph.inputs) {
      const t = inputs.get(spec.key);
      if (t === undefined)
        throw new InvalidInput(`Missing input "${spec.key}" of signature "${this.graph.signature}".`);
      feeds[spec.key] = this.feed(t, spec);
    }
    const out = await this.session.run(feeds);
    return this.graph.outputs.map((spec) => {
      const t = out[spec.key]!;
      const datatype = v2Datatype(spec.dtype)!;
      return { name: spec.key, datatype, shape: [...t.dims], data: fromOrtArray(t, datatype) };
    });
  }

  /** One request tensor as the onnxruntime tensor the lowered graph's input takes. */
  private feed(t: InferTensor, spec: FrozenTensor): WireTensor {
    const type = this.inputTypes.get(spec.key)!;
    if (type === 'string') {
      if (!Array.isArray(t.data)) throw new InvalidInput(`Input "${spec.key}" must be BYTES.`);
      return { type, dims: t.shape, data: t.data.map((s) => (typeof s === 'string' ? s : utf8.decode(s))) };
    }
    if (Array.isArray(t.data)) {
      throw new InvalidInput(`Input "${spec.key}" is BYTES but the signature wants ${dtypeName(spec.dtype)}.`);
    }
    if (V2_TO_ORT[t.datatype] === type) return { type, dims: t.shape, data: t.data as WireTensor['data'] };
    const values = numericValues(t.data, t.datatype);
    if (!BIG.has(type) && typeof values[0] === 'bigint') {
      for (let i = 0; i < values.length; i++) {
        if (!Number.isSafeInteger(Number(values[i]))) {
          throw new InvalidInput(`Input "${spec.key}": value ${values[i]} does not fit the engine's ${type}.`);
        }
      }
    }
    return { type, dims: t.shape, data: toOrtArray(values, type) };
  }

  /** Release the session and stop its worker thread. */
  async dispose(): Promise<void> {
    await this.session.release();
  }
}
