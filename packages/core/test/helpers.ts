// Small real models and server helpers shared by the core wire tests.

import { InvalidInput } from '../src/errors.js';
import type { ClassLabelProvider } from '../src/extensions/classification.js';
import { type InferContext, Model, type ModelMetadata } from '../src/model/model.js';
import {
  type InferRequest,
  type InferResponse,
  type InferTensor,
  isInferRequest,
  type Payload,
  type Result,
  type V1Request,
} from '../src/protocols/infer-types.js';
import { ModelServer, type ModelServerOptions } from '../src/server/model-server.js';
import { allocate, type TensorData } from '../src/tensor/datatypes.js';
import { tensorFromJson } from '../src/tensor/json-tensor.js';

/** Returns its inputs as outputs, always as a V2 response (V1 instances become one tensor); remembers the last context. */
export class EchoModel extends Model {
  lastCtx?: InferContext;

  override predict(payload: Payload, ctx: InferContext): Result {
    this.lastCtx = ctx;
    if (isInferRequest(payload)) return { model_name: this.name, outputs: payload.inputs };
    return { model_name: this.name, outputs: [tensorFromJson('instances', (payload as V1Request).instances)] };
  }
}

/** Answers every request with a V1 body `{"predictions": [count of inputs]}`. */
export class V1OnlyModel extends Model {
  override predict(payload: Payload): Result {
    const n = isInferRequest(payload) ? payload.inputs.length : ((payload as V1Request).instances ?? []).length;
    return { predictions: [n] };
  }
}

/** y = a·x + b on FP32 input "x" (any shape); V1 instances are numbers or 1-element rows. */
export class LinearModel extends Model {
  constructor(
    name: string,
    private readonly a = 2,
    private readonly b = 1,
  ) {
    super(name);
  }

  override predict(payload: Payload): Result {
    if (isInferRequest(payload)) {
      const x = payload.inputs.find((t) => t.name === 'x');
      if (x?.datatype !== 'FP32') throw new InvalidInput('LinearModel needs an FP32 input "x".');
      const xs = x.data as Float32Array;
      const y = allocate('FP32', xs.length);
      for (let i = 0; i < xs.length; i++) y[i] = this.a * xs[i]! + this.b;
      return { model_name: this.name, outputs: [{ name: 'y', datatype: 'FP32', shape: [...x.shape], data: y }] };
    }
    const rows = (payload as V1Request).instances ?? [];
    return { predictions: rows.map((r) => this.a * Number(Array.isArray(r) ? r[0] : r) + this.b) };
  }

  override explain(payload: Payload): Result {
    const rows = (payload as V1Request).instances ?? [];
    return { explanations: rows.map(() => ({ x: this.a })) };
  }

  override metadata(): ModelMetadata {
    return {
      name: this.name,
      platform: 'custom',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
    };
  }
}

/** Class probabilities [N, 3] from a [N] FP32 input: row i is (0.1, 0.2, 0.7) rotated by x mod 3. */
/** Class labels of ClassifierModel's `probs` output. */
export const CLASSES = ['setosa', 'versicolor', 'virginica'];

export class ClassifierModel extends Model implements ClassLabelProvider {
  override predict(payload: Payload): Result {
    const x = (payload as InferRequest).inputs[0]!;
    const rows = x.shape[0]!;
    const probs = new Float32Array(rows * 3);
    const base = [0.1, 0.2, 0.7];
    for (let r = 0; r < rows; r++) {
      const shift = Number((x.data as Float32Array)[r]) % 3;
      for (let c = 0; c < 3; c++) probs[r * 3 + c] = base[(c + shift) % 3]!;
    }
    return { model_name: this.name, outputs: [{ name: 'probs', datatype: 'FP32', shape: [rows, 3], data: probs }] };
  }

  classLabels(output: string): readonly string[] | undefined {
    return output === 'probs' ? CLASSES : undefined;
  }

  override metadata(): ModelMetadata {
    return {
      name: this.name,
      platform: 'custom',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
      outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 3] }],
    };
  }
}

/** Always fails in predict with a plain Error (a model's own failure). */
export class ThrowingModel extends Model {
  override predict(): Result {
    throw new Error('model exploded: weights are NaN');
  }
}

/** Fails to load. */
export class BrokenLoadModel extends Model {
  override load(): void {
    throw new Error('cannot read weights.bin: disk on fire');
  }

  override predict(): Result {
    throw new Error('unreachable');
  }
}

/** Echoes, but only after `release()` is called; `entered` resolves when a request is inside predict. */
export class SlowModel extends Model {
  entered!: Promise<void>;
  private markEntered!: () => void;
  private gate!: Promise<void>;
  private open!: () => void;

  constructor(name: string) {
    super(name);
    this.reset();
  }

  /** Arm the model for the next request. */
  reset(): void {
    this.entered = new Promise((r) => {
      this.markEntered = r;
    });
    this.gate = new Promise((r) => {
      this.open = r;
    });
  }

  /** Let the waiting request finish. */
  release(): void {
    this.open();
  }

  override async predict(payload: Payload): Promise<Result> {
    this.markEntered();
    await this.gate;
    return { model_name: this.name, outputs: (payload as InferRequest).inputs };
  }
}

/** Loads only after `release()`; `entered` resolves once `load()` has started. */
export class SlowLoadModel extends Model {
  entered: Promise<void>;
  private markEntered!: () => void;
  private readonly gate: Promise<void>;
  private open!: () => void;

  constructor(name: string) {
    super(name);
    this.entered = new Promise((r) => {
      this.markEntered = r;
    });
    this.gate = new Promise((r) => {
      this.open = r;
    });
  }

  /** Let `load()` finish. */
  release(): void {
    this.open();
  }

  override async load(): Promise<void> {
    this.markEntered();
    await this.gate;
  }

  override predict(payload: Payload): Result {
    return { model_name: this.name, outputs: (payload as InferRequest).inputs };
  }
}

/** A ModelServer on 127.0.0.1 with free ports, quiet, without process metrics. */
export async function startServer(
  models: Model[],
  options: ModelServerOptions = {},
  before?: (server: ModelServer) => void,
): Promise<ModelServer> {
  const server = new ModelServer({
    httpPort: 0,
    grpcPort: 0,
    host: '127.0.0.1',
    defaultMetrics: false,
    logLevel: 'silent',
    ...options,
  });
  before?.(server);
  await server.start(models);
  return server;
}

/** Comparable form of tensor data (BYTES as hex strings, typed arrays as plain arrays). */
export function plain(data: TensorData): unknown[] {
  if (Array.isArray(data)) {
    return data.map((b) => Buffer.from(typeof b === 'string' ? Buffer.from(b, 'utf8') : b).toString('hex'));
  }
  return Array.from(data as ArrayLike<number | bigint>);
}

/** Comparable form of a tensor. */
export function plainTensor(t: InferTensor): { name: string; datatype: string; shape: number[]; data: unknown[] } {
  return { name: t.name, datatype: t.datatype, shape: t.shape, data: plain(t.data) };
}

/** Comparable outputs of a response. */
export function plainOutputs(res: InferResponse): ReturnType<typeof plainTensor>[] {
  return res.outputs.map(plainTensor);
}

/**
 * One tensor per datatype with edge values. `exact` adds values that only binary/raw transports carry
 * exactly (64-bit integers beyond 2^53, non-UTF-8 BYTES).
 */
export function sampleTensors(exact: boolean): InferTensor[] {
  const big = exact ? 2n ** 64n - 1n : 2n ** 53n - 1n;
  const lo64 = exact ? -(2n ** 63n) : -(2n ** 53n - 1n);
  const hi64 = exact ? 2n ** 63n - 1n : 2n ** 53n - 1n;
  const t = (name: string, datatype: InferTensor['datatype'], data: TensorData, shape = [4]): InferTensor => ({
    name,
    datatype,
    shape,
    data,
  });
  return [
    t('bool', 'BOOL', Uint8Array.of(1, 0, 0, 1), [2, 2]),
    t('uint8', 'UINT8', Uint8Array.of(0, 1, 128, 255)),
    t('uint16', 'UINT16', Uint16Array.of(0, 1, 40000, 65535)),
    t('uint32', 'UINT32', Uint32Array.of(0, 1, 3_000_000_000, 4294967295)),
    t('uint64', 'UINT64', BigUint64Array.of(0n, 1n, 2n ** 40n, big)),
    t('int8', 'INT8', Int8Array.of(-128, -1, 0, 127)),
    t('int16', 'INT16', Int16Array.of(-32768, -1, 0, 32767)),
    t('int32', 'INT32', Int32Array.of(-2147483648, -1, 0, 2147483647)),
    t('int64', 'INT64', BigInt64Array.of(lo64, -1n, 0n, hi64)),
    // 1.5, -2, 65504 (largest half), smallest subnormal
    t('fp16', 'FP16', Uint16Array.of(0x3e00, 0xc000, 0x7bff, 0x0001)),
    // 1.5, -3, largest bfloat16, smallest subnormal
    t('bf16', 'BF16', Uint16Array.of(0x3fc0, 0xc040, 0x7f7f, 0x0001)),
    t('fp32', 'FP32', Float32Array.of(1.5, -2.25, 3.4028234663852886e38, 1.401298464324817e-45), [2, 2]),
    t('fp64', 'FP64', Float64Array.of(Math.PI, -1e308, 5e-324, 0.1)),
    exact
      ? t('bytes', 'BYTES', [Uint8Array.of(0, 255, 1), 'text', new Uint8Array(0)], [3])
      : t('bytes', 'BYTES', ['hello', 'wörld', '', '{"a":1}']),
  ];
}

/** Poll `probe` every 10 ms until it answers `want` (5 s at most); throws with the last answer otherwise. */
export async function waitFor<T>(probe: () => Promise<T>, want: T): Promise<void> {
  let last: T | undefined;
  for (let i = 0; i < 500; i++) {
    last = await probe();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`expected ${String(want)}, still ${String(last)}`);
}
