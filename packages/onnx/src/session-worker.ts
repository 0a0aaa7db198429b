import { Worker } from 'node:worker_threads';
import { builtWorkerUrl, takeOwnedBuffer } from '@servekit/core/wire';
import type * as ort from 'onnxruntime-node';
import {
  fp16Tensor,
  type SessionInfo,
  type ThreadReply,
  type ThreadRequest,
  toWire,
  type WireTensor,
} from './session-wire.js';

export type { SessionInfo, WireTensor } from './session-wire.js';

/** The session thread's script, `session-thread.js` built beside this module. */
function sessionThreadUrl(): URL {
  return builtWorkerUrl(import.meta.url, 'session-thread.js', '@servekit/onnx');
}

/** `Omit` applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

/**
 * An onnxruntime session owned by a worker thread. onnxruntime-node's `run` executes synchronously on the
 * calling thread (it only defers to the next tick), so a session on the main thread stalls every other
 * request for the whole inference. Here the event loop only posts inputs and receives outputs; input
 * bytes are copied once into the message (a merged batch's inputs are transferred, no copy) and output buffers come
 * back transferred (no copy).
 */
export class WorkerSession implements SessionRunner {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  private constructor() {
    this.worker = new Worker(sessionThreadUrl());
    this.worker.unref();
    this.worker.on('message', (msg: ThreadReply) => {
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
      const view = t.data as Float32Array;
      // A merged batch's buffer is this run's alone: transfer it as is. Else copy just this view's bytes (posting a
      // view would clone its whole underlying buffer, and the caller may still read it), then transfer the copy.
      const data = takeOwnedBuffer(view) ? view : view.slice();
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

  private call<T>(msg: DistributiveOmit<ThreadRequest, 'id'>, transfer: ArrayBuffer[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject });
      this.worker.postMessage({ ...msg, id } as ThreadRequest, transfer);
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
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly TensorClass: typeof ort.Tensor,
  ) {}

  /** Create the session from ModelProto bytes. */
  static async create(
    bytes: Uint8Array,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<{ session: MainThreadSession; info: SessionInfo }> {
    const { InferenceSession, Tensor } = await import('onnxruntime-node');
    const s = await InferenceSession.create(bytes, options);
    return {
      session: new MainThreadSession(s, Tensor),
      info: { inputMetadata: [...s.inputMetadata], outputMetadata: [...s.outputMetadata] },
    };
  }

  async run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    return (await this.timedRun(feeds)).outputs;
  }

  /**
   * Run, and measure how long the run blocked this thread. onnxruntime-node runs synchronously in a `setImmediate`
   * callback it schedules when called, so a callback scheduled just before it marks the start, and the
   * continuation (run from the microtasks right after that callback) the end. With `withCpu` the measure is the
   * smaller of the wall time and the process's CPU time over that span (a thread the OS preempted meanwhile, on a busy
   * machine, has not computed longer); reading the CPU time is a system call, so callers ask for it only to confirm.
   */
  async timedRun(
    feeds: Record<string, WireTensor>,
    withCpu = false,
  ): Promise<{ outputs: Record<string, WireTensor>; blockedMs: number }> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds))
      inputs[name] = fp16Tensor(new this.TensorClass(t.type as 'float32', t.data as Float32Array, t.dims), t.data);
    let wall0 = 0;
    let cpu0: NodeJS.CpuUsage | undefined;
    setImmediate(() => {
      if (withCpu) cpu0 = process.cpuUsage();
      wall0 = performance.now();
    });
    const out = await this.session.run(inputs);
    let blockedMs = performance.now() - wall0;
    if (withCpu) {
      const cpu = process.cpuUsage(cpu0);
      blockedMs = Math.min(blockedMs, (cpu.user + cpu.system) / 1000);
    }
    const outputs: Record<string, WireTensor> = {};
    for (const [name, t] of Object.entries(out)) outputs[name] = toWire(t);
    return { outputs, blockedMs };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
