import { Worker } from 'node:worker_threads';
import { builtWorkerUrl, takeOwnedBuffer } from '@servekit/core/wire';
import type * as ort from 'onnxruntime-node';
import { DirectSession, type OrtApi } from './ort-direct-session.js';
import { PendingCalls } from './pending-calls.js';
import {
  openPublicSession,
  outputsToWire,
  type PublicSession,
  publicFeeds,
  type SessionInfo,
  type ThreadReply,
  type ThreadRequest,
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
  private readonly pending = new PendingCalls<Pending>();
  private nextId = 0;
  /** The onnxruntime API the worker's session runs on. */
  api: OrtApi = 'public';

  private constructor() {
    this.worker = new Worker(sessionThreadUrl());
    this.worker.unref();
    this.worker.on('message', (msg: ThreadReply) => {
      const p = this.pending.take(msg.id);
      if (!p) return;
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
    const reply = await session.call<{ info: SessionInfo; api: OrtApi }>({ type: 'load', bytes: copy, options }, [
      copy.buffer,
    ]);
    session.api = reply.api;
    return { session, info: reply.info };
  }

  /** Run the session on `feeds`; resolves with every output. */
  async run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    const transfer: ArrayBuffer[] = [];
    const sent: Record<string, WireTensor> = {};
    for (const name in feeds) {
      const t = feeds[name]!;
      if (Array.isArray(t.data)) {
        sent[name] = { type: t.type, dims: t.dims, data: t.data, location: 'cpu' };
        continue;
      }
      const view = t.data as Float32Array;
      // A merged batch's buffer is this run's alone: transfer it as is. Else copy just this view's bytes (posting a
      // view would clone its whole underlying buffer, and the caller may still read it), then transfer the copy.
      const data = takeOwnedBuffer(view) ? view : view.slice();
      transfer.push(data.buffer as ArrayBuffer);
      sent[name] = { type: t.type, dims: t.dims, data, location: 'cpu' };
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
      this.pending.add(id, { resolve: resolve as (v: never) => void, reject });
      this.worker.postMessage({ ...msg, id } as ThreadRequest, transfer);
    });
  }

  private failAll(err: Error): void {
    for (const p of this.pending.takeAll()) p.reject(err);
  }
}

/** The session runner interface shared by the worker-thread and main-thread sessions. */
export interface SessionRunner {
  /** Run on feeds; all outputs. */
  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>>;
  /** Free the session. */
  release(): Promise<void>;
}

/** Told after each deferred run, failed or not, how long it blocked the thread (ms) and whether CPU time was read. */
export type RunObserver = (blockedMs: number, withCpu: boolean) => void;

/** A run waiting for `MainThreadSession`'s next check phase. */
interface DeferredRun {
  feeds: Record<string, WireTensor>;
  withCpu: boolean;
  observer: RunObserver | undefined;
  resolve: (outputs: Record<string, WireTensor>) => void;
  reject: (err: unknown) => void;
}

/**
 * A session on the calling thread: lowest latency for tiny models, but each run blocks the event loop. It runs on
 * onnxruntime-node's native binding directly (`DirectSession`: one synchronous call per run) where that is usable,
 * else on the public API.
 */
export class MainThreadSession implements SessionRunner {
  /** How long the last `runBlocking` call blocked this thread (ms). */
  lastBlockedMs = 0;
  /** Runs asked for in this turn of the event loop, run by one `setImmediate` (`runDeferred`). */
  private deferred: DeferredRun[] = [];

  private constructor(
    private readonly direct: DirectSession | undefined,
    private readonly pub: PublicSession | undefined,
  ) {}

  /** Create the session from ModelProto bytes. */
  static async create(
    bytes: Uint8Array,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<{ session: MainThreadSession; info: SessionInfo }> {
    const direct = DirectSession.create(bytes, options);
    if (direct) return { session: new MainThreadSession(direct, undefined), info: direct.info };
    const pub = await openPublicSession(bytes, options);
    return { session: new MainThreadSession(undefined, pub), info: pub.info };
  }

  /** The onnxruntime API this session runs on. */
  get api(): OrtApi {
    return this.direct ? 'direct' : 'public';
  }

  /** True when runs are synchronous calls (`runBlocking`, `runDeferred`); else runs go through `timedRun`. */
  get blocking(): boolean {
    return this.direct !== undefined;
  }

  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    if (this.direct) return this.runDeferred(feeds);
    return this.timedRun(feeds).then((r) => r.outputs);
  }

  /**
   * Run on the native binding (only when `blocking`) in this turn's check phase: every run asked for during one turn
   * of the event loop runs from one `setImmediate`, one after the other, so the poll phase reads every ready request
   * before any is answered and their responses go out together (answering each request inside its socket's read
   * callback cost more CPU per request over loopback HTTP: bench/RESULTS.md, issue 15 stop 15). `observer` hears how
   * long each run blocked the thread (`runBlocking`), before its promise settles.
   */
  runDeferred(
    feeds: Record<string, WireTensor>,
    withCpu = false,
    observer?: RunObserver,
  ): Promise<Record<string, WireTensor>> {
    return new Promise((resolve, reject) => {
      if (this.deferred.push({ feeds, withCpu, observer, resolve, reject }) === 1) setImmediate(this.drain);
    });
  }

  /** Run every deferred run (made once per session: `runDeferred` schedules it). */
  private readonly drain = (): void => {
    const runs = this.deferred;
    this.deferred = [];
    for (const r of runs) {
      let outputs: Record<string, WireTensor>;
      try {
        outputs = this.runBlocking(r.feeds, r.withCpu);
      } catch (err) {
        r.observer?.(this.lastBlockedMs, r.withCpu);
        r.reject(err);
        continue;
      }
      r.observer?.(this.lastBlockedMs, r.withCpu);
      r.resolve(outputs);
    }
  };

  /**
   * Run synchronously on the native binding (only when `blocking`) and set `lastBlockedMs` to how long the run blocked
   * this thread. With `withCpu` the measure is the smaller of the wall time and the process's CPU time over the run (a
   * thread the OS preempted meanwhile, on a busy machine, has not computed longer); reading the CPU time is a system
   * call, so callers ask for it only to confirm. Throws onnxruntime's error.
   */
  runBlocking(feeds: Record<string, WireTensor>, withCpu = false): Record<string, WireTensor> {
    const direct = this.direct;
    if (!direct) throw new Error('this onnxruntime session runs on the public API: use timedRun');
    const cpu0 = withCpu ? process.cpuUsage() : undefined;
    const wall0 = performance.now();
    let out: Record<string, ort.Tensor>;
    try {
      out = direct.run(feeds);
    } finally {
      this.lastBlockedMs = blockedSince(wall0, cpu0);
    }
    return outputsToWire(out);
  }

  /**
   * Run on the public API (only when not `blocking`) and measure how long the run blocked this thread: onnxruntime-node
   * runs synchronously in a `setImmediate` callback it schedules when called, so a callback scheduled just before it
   * marks the start, and the continuation (run from the microtasks right after that callback) the end. `withCpu` as in
   * `runBlocking`.
   */
  async timedRun(
    feeds: Record<string, WireTensor>,
    withCpu = false,
  ): Promise<{ outputs: Record<string, WireTensor>; blockedMs: number }> {
    if (this.direct) throw new Error('this onnxruntime session runs on the native binding: use runDeferred');
    const pub = this.pub!;
    const inputs = publicFeeds(pub, feeds);
    let wall0 = 0;
    let cpu0: NodeJS.CpuUsage | undefined;
    setImmediate(() => {
      if (withCpu) cpu0 = process.cpuUsage();
      wall0 = performance.now();
    });
    const out = await pub.session.run(inputs);
    return { outputs: outputsToWire(out), blockedMs: blockedSince(wall0, cpu0) };
  }

  async release(): Promise<void> {
    if (this.direct) this.direct.release();
    else await this.pub!.session.release();
  }
}

/** Milliseconds since `wall0` (`performance.now()`), or the process's CPU time since `cpu0` when that is smaller. */
function blockedSince(wall0: number, cpu0: NodeJS.CpuUsage | undefined): number {
  const wallMs = performance.now() - wall0;
  if (!cpu0) return wallMs;
  const cpu = process.cpuUsage(cpu0);
  return Math.min(wallMs, (cpu.user + cpu.system) / 1000);
}
