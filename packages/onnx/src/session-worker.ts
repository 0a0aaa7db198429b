import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';

/** A tensor crossing the thread boundary: plain data, the typed array's buffer transferred. */
export interface WireTensor {
  /** ORT type. */
  type: ort.Tensor.Type;
  /** Dims. */
  dims: number[];
  /** Elements (strings for `string`). */
  data: ort.Tensor.DataType;
}

/** Input/output metadata reported by the worker's session. */
export interface SessionInfo {
  /** `session.inputMetadata`. */
  inputMetadata: ort.InferenceSession.ValueMetadata[];
  /** `session.outputMetadata`. */
  outputMetadata: ort.InferenceSession.ValueMetadata[];
}

// FP16 tensors are Uint16Array bit patterns in servekit. Where the runtime has a global Float16Array (Node >= 24),
// onnxruntime-common turns Uint16Array float16 data into a Float16Array view, which onnxruntime-node's native
// binding cannot read ("not enough space"), and answers float16 outputs as Float16Array: keep the bit patterns.
// Both run in the worker too (their source is part of its body), so they use no imports.

/** The tensor holding `bits` as its float16 data (onnxruntime-node reads Uint16Array only). */
function fp16Tensor(tensor: ort.Tensor, bits: unknown): ort.Tensor {
  if (tensor.type === 'float16' && bits instanceof Uint16Array && !(tensor.data instanceof Uint16Array)) {
    (tensor as unknown as { cpuData: Uint16Array }).cpuData = bits;
  }
  return tensor;
}

/** A tensor's data, float16 as Uint16Array bit patterns (a view, no copy). */
function fp16Bits(t: { type: string; data: ort.Tensor.DataType }): ort.Tensor.DataType {
  if (t.type !== 'float16' || t.data instanceof Uint16Array) return t.data;
  const view = t.data as unknown as ArrayBufferView & { length: number };
  return new Uint16Array(view.buffer, view.byteOffset, view.length);
}

/** onnxruntime-node as resolved from this package, so the worker loads the same copy. */
const ORT_PATH = createRequire(import.meta.url).resolve('onnxruntime-node');

// The worker body is plain JS evaluated in the worker, so it runs the same from src (tests) and dist.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const ort = require(${JSON.stringify(ORT_PATH)});
let session;
${fp16Tensor.toString()}
${fp16Bits.toString()}
const wire = (t) => ({ type: t.type, dims: t.dims, data: fp16Bits(t) });
parentPort.on('message', async (msg) => {
  try {
    if (msg.type === 'load') {
      session = await ort.InferenceSession.create(msg.bytes, msg.options);
      parentPort.postMessage({ id: msg.id, info: { inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata } });
    } else if (msg.type === 'run') {
      const feeds = {};
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = fp16Tensor(new ort.Tensor(t.type, t.data, t.dims), t.data);
      const out = await session.run(feeds);
      const outputs = {};
      const transfer = [];
      for (const [name, t] of Object.entries(out)) {
        outputs[name] = wire(t);
        if (t.type !== 'string') transfer.push(t.data.buffer);
      }
      parentPort.postMessage({ id: msg.id, outputs }, transfer);
    } else if (msg.type === 'release') {
      await session?.release();
      parentPort.postMessage({ id: msg.id });
    }
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: err && err.message ? err.message : String(err) });
  }
});
`;

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

/**
 * An onnxruntime session owned by a worker thread. onnxruntime-node's `run` executes synchronously on the
 * calling thread (it only defers to the next tick), so a session on the main thread stalls every other
 * request for the whole inference. Here the event loop only posts inputs and receives outputs; input
 * bytes are copied once into the message and output buffers come back transferred (no copy).
 */
export class WorkerSession {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  private constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (msg: { id: number; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg as never);
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`onnxruntime worker exited with code ${code}`)));
  }

  /** Start a worker and create the session in it from ModelProto bytes. */
  static async create(
    bytes: Uint8Array,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<{ session: WorkerSession; info: SessionInfo }> {
    const session = new WorkerSession();
    // A copy in a fresh ArrayBuffer: a Buffer's slice() is a view, and a small Buffer (protobufjs's encoding of a
    // converted model) lives in Node's shared pool, which Node >= 22 refuses to transfer.
    const copy = new Uint8Array(bytes);
    const reply = await session.call<{ info: SessionInfo }>({ type: 'load', bytes: copy, options }, [copy.buffer]);
    return { session, info: reply.info };
  }

  /** Run the session on `feeds`; resolves with every output. */
  async run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    const transfer: ArrayBuffer[] = [];
    const sent: Record<string, WireTensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      if (Array.isArray(t.data)) {
        sent[name] = t;
        continue;
      }
      // Copy just this view's bytes (posting a view would clone its whole underlying buffer), then transfer.
      const data = (t.data as Float32Array).slice();
      transfer.push(data.buffer as ArrayBuffer);
      sent[name] = { type: t.type, dims: t.dims, data };
    }
    const reply = await this.call<{ outputs: Record<string, WireTensor> }>({ type: 'run', feeds: sent }, transfer);
    return reply.outputs;
  }

  /** Release the session and stop the worker. */
  async release(): Promise<void> {
    try {
      await this.call({ type: 'release' }, []);
    } finally {
      await this.worker.terminate();
    }
  }

  private call<T>(msg: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** The session runner interface shared by the worker-thread and main-thread sessions. */
export interface SessionRunner {
  /** Run on feeds; all outputs. */
  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>>;
  /** Free the session. */
  release(): Promise<void>;
}

/** A session on the calling thread: lowest latency for tiny models, but each run blocks the event loop. */
export class MainThreadSession implements SessionRunner {
  private constructor(private readonly session: ort.InferenceSession) {}

  /** Create the session from ModelProto bytes. */
  static async create(
    bytes: Uint8Array,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<{ session: MainThreadSession; info: SessionInfo }> {
    const { InferenceSession } = await import('onnxruntime-node');
    const s = await InferenceSession.create(bytes, options);
    return {
      session: new MainThreadSession(s),
      info: { inputMetadata: [...s.inputMetadata], outputMetadata: [...s.outputMetadata] },
    };
  }

  async run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    const { Tensor } = await import('onnxruntime-node');
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds))
      inputs[name] = fp16Tensor(new Tensor(t.type as 'float32', t.data as Float32Array, t.dims), t.data);
    const out = await this.session.run(inputs);
    const result: Record<string, WireTensor> = {};
    for (const [name, t] of Object.entries(out)) result[name] = { type: t.type, dims: [...t.dims], data: fp16Bits(t) };
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
