/**
 * The default session placement of OnnxModel: a small model runs on the event loop thread, where a run that takes
 * microseconds costs no thread hop; a model whose measured runs block the loop moves, for good, to a worker
 * thread (`WorkerSession`), and a large model file starts there.
 */
import type * as ort from 'onnxruntime-node';
import type { WireTensor } from './session-wire.js';
import { MainThreadSession, type SessionInfo, type SessionRunner, WorkerSession } from './session-worker.js';

/** When an `AdaptiveSession` leaves the event loop thread. */
export interface AdaptivePolicy {
  /** A model file of at least this many bytes starts in a worker thread (its runs are rarely tiny). */
  workerFromBytes: number;
  /** A run blocking the loop longer than this (ms) counts as slow. */
  slowRunMs: number;
  /** This many slow runs in a row (after the first, seen by the wall clock) move the session to a worker thread. */
  slowRunsToMove: number;
  /** A single run blocking the loop longer than this (ms; after the first, seen by the wall clock) moves it at once. */
  moveAtOnceMs: number;
}

/**
 * Defaults: onnxruntime-node's run of a tiny model (iris logistic regression, a 60 KB random forest) blocks the loop
 * for well under 0.1 ms, about what the worker round trip costs; an MLP on a 1×784 input or a convolution net
 * takes a millisecond and more, and belongs off the loop.
 */
export const DEFAULT_ADAPTIVE_POLICY: AdaptivePolicy = {
  workerFromBytes: 128 * 1024,
  slowRunMs: 1,
  slowRunsToMove: 3,
  moveAtOnceMs: 10,
};

/**
 * Session options of the main-thread session: unless set, one thread (a run of microseconds gains nothing from a
 * pool whose threads must wake up and sync, and loses when the cores are busy) and no CPU memory arena (a tiny
 * model's tensors do not need one; it only holds memory). The worker session, if the model moves, gets `options`.
 */
function mainThreadOptions(options: ort.InferenceSession.SessionOptions): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: 1, enableCpuMemArena: false, ...options };
}

/** Where an `AdaptiveSession` runs now. */
export type SessionPlace = 'main' | 'moving' | 'worker' | 'released';

/**
 * A session that runs on the event loop thread while its runs are short and moves to a worker thread once they are
 * not (see `AdaptivePolicy`). Runs started while the worker session is created still run on the main thread; the
 * main-thread session is released when its last run has finished. Outputs are the same wherever the session runs.
 */
export class AdaptiveSession implements SessionRunner {
  private main?: MainThreadSession;
  private worker?: WorkerSession;
  private moving?: Promise<void>;
  private mainRuns = 0;
  private slowRuns = 0;
  /** The last run looked slow by the wall clock: measure the next with CPU time too, to tell compute from preemption. */
  private confirming = false;
  private released = false;
  private moveFailed = false;

  private constructor(
    private bytes: Uint8Array | undefined,
    private readonly options: ort.InferenceSession.SessionOptions,
    private readonly policy: AdaptivePolicy,
  ) {}

  /** Create the session from ModelProto bytes: in a worker thread for a large file, else on this thread. */
  static async create(
    bytes: Uint8Array,
    options: ort.InferenceSession.SessionOptions,
    policy: AdaptivePolicy = DEFAULT_ADAPTIVE_POLICY,
  ): Promise<{ session: AdaptiveSession; info: SessionInfo }> {
    if (bytes.byteLength >= policy.workerFromBytes) {
      const { session: worker, info } = await WorkerSession.create(bytes, options);
      const session = new AdaptiveSession(undefined, options, policy);
      session.worker = worker;
      return { session, info };
    }
    const { session: main, info } = await MainThreadSession.create(bytes, mainThreadOptions(options));
    const session = new AdaptiveSession(bytes, options, policy);
    session.main = main;
    return { session, info };
  }

  /** Where the session runs now (tests, logs). */
  get place(): SessionPlace {
    if (this.released) return 'released';
    if (this.worker) return 'worker';
    return this.moving && !this.moveFailed ? 'moving' : 'main';
  }

  /** Resolves once a move to the worker thread that has started has finished (or failed); at once otherwise. */
  async settled(): Promise<void> {
    await this.moving;
  }

  /**
   * Run on `feeds`. On the main thread a direct run is deferred to this turn's check phase and timed there
   * (`MainThreadSession.runDeferred`); a public-API run's promise is chained once (no async frame of its own).
   */
  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    if (this.worker) return this.worker.run(feeds);
    const main = this.main;
    if (!main) return Promise.reject(new Error('the onnxruntime session is released'));
    const confirming = this.confirming;
    this.mainRuns++;
    // The direct path: a synchronous call in this turn's check phase, timed around it.
    if (main.blocking) return main.runDeferred(feeds, confirming, this.observed);
    const done = () => {
      this.mainRuns--;
      this.releaseRetiredMain();
    };
    let running: ReturnType<MainThreadSession['timedRun']>;
    try {
      running = main.timedRun(feeds, confirming);
    } catch (err) {
      done();
      return Promise.reject(err);
    }
    return running.then(
      ({ outputs, blockedMs }) => {
        try {
          this.observe(blockedMs, confirming);
        } finally {
          done();
        }
        return outputs;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
  }

  /** A direct run's end on the main thread: count its time, then free a retired main session (made once). */
  private readonly observed = (blockedMs: number, withCpu: boolean): void => {
    this.mainRuns--;
    this.observe(blockedMs, withCpu);
    this.releaseRetiredMain();
  };

  async release(): Promise<void> {
    this.released = true;
    await this.moving;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.release();
    const main = this.main;
    this.main = undefined;
    await main?.release();
  }

  /**
   * Count a main-thread run's blocking time; start the move when the policy says so. A run slow by the wall clock
   * alone only makes the next run measured with CPU time: only runs slow by both count.
   */
  private observe(blockedMs: number, withCpu: boolean): void {
    if (this.moving || this.released) return;
    const slow = blockedMs > this.policy.slowRunMs;
    if (!withCpu) {
      this.confirming = slow;
      return;
    }
    this.slowRuns = slow ? this.slowRuns + 1 : 0;
    this.confirming = slow;
    if (blockedMs > this.policy.moveAtOnceMs || this.slowRuns >= this.policy.slowRunsToMove) this.moveToWorker();
  }

  private moveToWorker(): void {
    const bytes = this.bytes;
    if (!bytes) return;
    this.moving = WorkerSession.create(bytes, this.options).then(
      async ({ session }) => {
        if (this.released) {
          await session.release();
          return;
        }
        this.worker = session;
        this.bytes = undefined;
        this.releaseRetiredMain();
      },
      () => {
        // The worker could not start (e.g. out of threads): keep serving on this thread, and stop trying.
        this.moveFailed = true;
        this.bytes = undefined;
      },
    );
  }

  /** Once runs go to the worker, free the main-thread session after its last run. */
  private releaseRetiredMain(): void {
    if (!this.worker || this.mainRuns > 0 || !this.main) return;
    const main = this.main;
    this.main = undefined;
    void main.release().catch(() => {});
  }
}
