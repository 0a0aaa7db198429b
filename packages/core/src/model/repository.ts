import { ModelNotFound, ModelNotReady } from '../errors.js';
import type { Model } from './model.js';

/** Lifecycle state of a model in the repository (V2 repository extension names). */
export type ModelState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

/** A model the factory built, with its version when it is one of several. */
export interface VersionedModel {
  /** The (not yet loaded) model. */
  model: Model;
  /** Its version, when versioned. */
  version?: string;
}

/** What a {@link ModelFactory} returns: one model, or several (versions as {@link VersionedModel}). */
export type ModelFactoryResult = Model | Array<Model | VersionedModel>;

/**
 * Builds fresh (not yet loaded) models for `name` from their files. Used by `load(name)` for names not registered
 * yet, for a reload of a loaded model (Triton and KServe re-read the files) and for a load after an unload.
 */
export type ModelFactory = (name: string) => Promise<ModelFactoryResult> | ModelFactoryResult;

/** `reason` of a model that was unloaded through the repository API (Triton's word). */
export const UNLOADED_REASON = 'unloaded';

interface Entry {
  model: Model;
  version?: string;
  state: ModelState;
  reason?: string;
  /** Registered and never loaded: the first load loads this very instance instead of asking the factory. */
  pristine: boolean;
}

/** One row of `POST /v2/repository/index`. */
export interface RepositoryIndexEntry {
  /** Model name. */
  name: string;
  /** Version, when versioned. */
  version?: string;
  /** Current state. */
  state: ModelState;
  /** Why the model is unavailable (load error, or `unloaded`), when it is. */
  reason?: string;
}

/** A model held for one request: the repository disposes a replaced or unloaded model only once all are released. */
export interface ModelLease {
  /** The ready model. */
  model: Model;
  /** Give the model back (idempotent). */
  release(): void;
}

type OpKind = 'load' | 'unload';

/**
 * Holds the served models, by name and version, with their load state.
 * The latest registered version (highest numeric, else last) is the default for unversioned requests.
 *
 * Loads and unloads of one name run one at a time, in arrival order; a load (or unload) asked while the same
 * operation is already queued or running joins it. A load of a serving model builds fresh instances through the
 * factory, loads them while the old ones keep serving, swaps them in, then disposes the old ones once their
 * in-flight requests are done. An unload is idempotent; the model stays listed as UNAVAILABLE (`unloaded`).
 */
export class ModelRepository {
  private readonly models = new Map<string, Entry[]>();
  private readonly listeners = new Set<(name: string) => void>();
  private readonly retireListeners = new Set<(model: Model) => void | Promise<void>>();
  /** Requests holding each model, and who waits for the count to reach zero. */
  private readonly inUse = new Map<Model, { count: number; idle: Array<() => void> }>();
  /** Per name: the promise of the last queued operation, and its kind (for coalescing). */
  private readonly ops = new Map<string, { kind: OpKind; done: Promise<void> }>();

  /** Optional factory used by `load(name)` to build models from their files (see {@link ModelFactory}). */
  factory?: ModelFactory;

  /** Register a model (not loaded yet). A second model with the same name and version replaces the first. */
  register(model: Model, version?: string): void {
    const entries = this.models.get(model.name) ?? [];
    const kept = entries.filter((e) => e.version !== version);
    kept.push({ model, version, state: model.ready ? 'READY' : 'UNAVAILABLE', pristine: !model.ready });
    kept.sort((a, b) => compareVersions(a.version, b.version));
    this.models.set(model.name, kept);
  }

  /** Call `fn` when a model's state changes. */
  onChange(fn: (name: string) => void): void {
    this.listeners.add(fn);
  }

  /** Call `fn` when a replaced or unloaded model has no request left, just before its `unload()`. */
  onRetire(fn: (model: Model) => void | Promise<void>): void {
    this.retireListeners.add(fn);
  }

  /** Names of all registered models (unloaded ones included: they stay listed, UNAVAILABLE). */
  names(): string[] {
    return [...this.models.keys()];
  }

  /** True when `name` is registered (loaded or not), without listing every name. */
  has(name: string): boolean {
    return this.models.has(name);
  }

  /** Versions registered for `name` (empty when unversioned). */
  versions(name: string): string[] {
    return (this.models.get(name) ?? []).flatMap((e) => (e.version === undefined ? [] : [e.version]));
  }

  /** The entry for name/version; throws ModelNotFound. */
  private entry(name: string, version?: string): Entry {
    const entries = this.models.get(name);
    if (!entries || entries.length === 0) throw new ModelNotFound(name);
    if (version === undefined || version === '') return entries[entries.length - 1]!;
    const found = entries.find((e) => e.version === version);
    if (!found) throw new ModelNotFound(name, version);
    return found;
  }

  /** The model for name/version (any state); throws ModelNotFound. */
  get(name: string, version?: string): Model {
    return this.entry(name, version).model;
  }

  /** The model for name/version if it is ready; throws ModelNotFound or ModelNotReady (with the load error). */
  getReady(name: string, version?: string): Model {
    const e = this.entry(name, version);
    if (e.state !== 'READY' || !e.model.isReady()) throw new ModelNotReady(name, e.reason ?? e.model.notReadyReason);
    return e.model;
  }

  /** The ready model for name/version, held until `release()`: it is not disposed while a request uses it. */
  acquire(name: string, version?: string): ModelLease {
    const model = this.getReady(name, version);
    let use = this.inUse.get(model);
    if (!use) {
      use = { count: 0, idle: [] };
      this.inUse.set(model, use);
    }
    use.count++;
    let released = false;
    return {
      model,
      release: () => {
        if (released) return;
        released = true;
        use.count--;
        if (use.count === 0) {
          this.inUse.delete(model);
          for (const fn of use.idle.splice(0)) fn();
        }
      },
    };
  }

  /** Requests holding `model` now. */
  inFlight(model: Model): number {
    return this.inUse.get(model)?.count ?? 0;
  }

  /** State and load error of name/version. */
  status(name: string, version?: string): { state: ModelState; reason?: string } {
    const e = this.entry(name, version);
    return { state: e.state, reason: e.reason };
  }

  /** True when name/version is registered and ready. */
  isReady(name: string, version?: string): boolean {
    try {
      const e = this.entry(name, version);
      return e.state === 'READY' && e.model.isReady();
    } catch {
      return false;
    }
  }

  /**
   * True when nothing is loading or unloading, and every loaded model that gates the server's readiness
   * (`Model.gatesServerReadiness`, e.g. a health-checked transformer) is ready. Models that failed to load do not
   * hold the server back: the others are served.
   */
  readyToServe(): boolean {
    for (const entries of this.models.values()) {
      for (const e of entries) {
        if (e.state === 'LOADING' || e.state === 'UNLOADING') return false;
        if (e.state === 'READY' && e.model.gatesServerReadiness && !e.model.isReady()) return false;
      }
    }
    return true;
  }

  /**
   * Load (or reload) every version of `name`. Registered models that were never loaded load in place; otherwise
   * the factory builds fresh ones from the files, which replace the serving ones only once they all loaded (a failed
   * reload keeps the old ones serving). Without a factory, models that are not ready load again in place.
   * A load failure is recorded (state UNAVAILABLE with the reason) and rethrown; other models are untouched.
   */
  load(name: string): Promise<void> {
    return this.enqueue(name, 'load', () => this.doLoad(name));
  }

  /**
   * Unload every version of `name`: it stops taking requests, the ones in flight finish, then `unload()` runs once.
   * The model stays listed (UNAVAILABLE, reason `unloaded`); unloading it again does nothing. Unknown names throw
   * ModelNotFound.
   */
  unload(name: string): Promise<void> {
    if (!this.models.has(name)) return Promise.reject(new ModelNotFound(name));
    return this.enqueue(name, 'unload', () => this.doUnload(name));
  }

  /** Load every registered model; failures are recorded, not thrown. Returns the failures by name. */
  async loadAll(): Promise<Map<string, string>> {
    const failures = new Map<string, string>();
    await Promise.all(
      this.names().map(async (name) => {
        try {
          await this.load(name);
        } catch (err) {
          failures.set(name, err instanceof Error ? err.message : String(err));
        }
      }),
    );
    return failures;
  }

  /**
   * Unload every model (server shutdown). Waits for in-flight requests up to `waitMs` (default: as long as they
   * take), then unloads regardless.
   */
  async unloadAll(waitMs?: number): Promise<void> {
    // A model still loading is abandoned, not waited for: the process is stopping and its load may take minutes.
    const settled = this.names().filter((name) => this.ops.get(name)?.kind !== 'load');
    await Promise.all(
      settled.map((name) => this.enqueue(name, 'unload', () => this.doUnload(name, waitMs)).catch(() => undefined)),
    );
  }

  /** Every model and version with its state (V2 repository index). */
  index(): RepositoryIndexEntry[] {
    const rows: RepositoryIndexEntry[] = [];
    for (const [name, entries] of this.models) {
      for (const e of entries) {
        const row: RepositoryIndexEntry = { name, state: e.state };
        if (e.version !== undefined) row.version = e.version;
        if (e.reason !== undefined) row.reason = e.reason;
        rows.push(row);
      }
    }
    return rows;
  }

  /** Run `op` after every operation queued for `name`; join the last queued one when it is of the same kind. */
  private enqueue(name: string, kind: OpKind, op: () => Promise<void>): Promise<void> {
    const last = this.ops.get(name);
    if (last?.kind === kind) return last.done;
    const done = (last?.done ?? Promise.resolve()).catch(() => undefined).then(op);
    const slot = { kind, done };
    this.ops.set(name, slot);
    const clear = () => {
      if (this.ops.get(name) === slot) this.ops.delete(name);
    };
    done.then(clear, clear);
    return done;
  }

  private async doLoad(name: string): Promise<void> {
    const current = this.models.get(name);
    const serving = (current ?? []).filter((e) => e.state === 'READY');
    if (current?.every((e) => e.pristine)) return this.loadInPlace(name, current);
    if (!this.factory) {
      if (!current) throw new ModelNotFound(name);
      return this.loadInPlace(
        name,
        current.filter((e) => e.state !== 'READY'),
      );
    }
    const fresh = normalize(await this.factory(name));
    if (fresh.length === 0) throw new ModelNotFound(name);
    const entries: Entry[] = fresh
      .map(({ model, version }) => ({ model, version, state: 'LOADING' as ModelState, pristine: false }))
      .sort((a, b) => compareVersions(a.version, b.version));
    // Nothing serving: the new models are listed (LOADING) at once. Serving: the old ones stay until the swap.
    if (serving.length === 0) {
      this.models.set(name, entries);
      this.emit(name);
    }
    const errors = await this.loadEntries(entries);
    if (serving.length > 0 && errors.length > 0) {
      // The failed ones were disposed by loadEntries; drop the ones that did load.
      await Promise.all(entries.filter((e) => e.state === 'READY').map((e) => this.dispose(e.model)));
      throw new ModelNotReady(name, `Reload failed: ${errors.join('; ')}; the loaded model keeps serving.`);
    }
    if (serving.length > 0) {
      this.models.set(name, entries);
      this.emit(name);
      await Promise.all(serving.map((e) => this.retire(e.model)));
    }
    if (errors.length > 0) throw new ModelNotReady(name, `Load failed: ${errors.join('; ')}`);
  }

  private async loadInPlace(name: string, entries: Entry[]): Promise<void> {
    for (const e of entries) e.state = 'LOADING';
    if (entries.length > 0) this.emit(name);
    const errors = await this.loadEntries(entries);
    if (errors.length > 0) throw new ModelNotReady(name, `Load failed: ${errors.join('; ')}`);
  }

  /** Load each entry; returns the load errors (failed entries are UNAVAILABLE with the reason, and disposed). */
  private async loadEntries(entries: Entry[]): Promise<string[]> {
    const errors: string[] = [];
    await Promise.all(
      entries.map(async (e) => {
        e.state = 'LOADING';
        e.reason = undefined;
        e.pristine = false;
        try {
          await e.model.load();
          e.model.ready = true;
          e.state = 'READY';
        } catch (err) {
          e.model.ready = false;
          e.state = 'UNAVAILABLE';
          e.reason = err instanceof Error ? err.message : String(err);
          errors.push(e.reason);
          await this.dispose(e.model); // whatever a half-done load opened (threads, sessions)
        }
      }),
    );
    const name = entries[0]?.model.name;
    if (name !== undefined) this.emit(name);
    return errors;
  }

  private async doUnload(name: string, waitMs?: number): Promise<void> {
    const entries = (this.models.get(name) ?? []).filter((e) => e.state === 'READY');
    if (entries.length === 0) return;
    for (const e of entries) {
      e.state = 'UNLOADING';
      e.model.ready = false;
    }
    this.emit(name);
    await Promise.all(entries.map((e) => this.retire(e.model, waitMs)));
    for (const e of entries) {
      e.state = 'UNAVAILABLE';
      e.reason = UNLOADED_REASON;
    }
    this.emit(name);
  }

  /** Stop handing `model` out, wait for its requests (up to `waitMs`), then unload it. */
  private async retire(model: Model, waitMs?: number): Promise<void> {
    model.ready = false;
    const use = this.inUse.get(model);
    if (use && use.count > 0) {
      await new Promise<void>((resolve) => {
        use.idle.push(resolve);
        if (waitMs !== undefined) setTimeout(resolve, waitMs).unref();
      });
    }
    for (const fn of this.retireListeners) await fn(model);
    await this.dispose(model);
  }

  /** `model.unload()`, its failure ignored (the model is gone either way). */
  private async dispose(model: Model): Promise<void> {
    model.ready = false;
    try {
      await model.unload();
    } catch {
      // A model that cannot release cleanly is still dropped.
    }
  }

  private emit(name: string): void {
    for (const fn of this.listeners) fn(name);
  }
}

function normalize(made: ModelFactoryResult): VersionedModel[] {
  return (Array.isArray(made) ? made : [made]).map((m) => (isVersioned(m) ? m : { model: m }));
}

/** A VersionedModel, not a Model (every Model has `predict`; a Transformer also has a `model` field). */
function isVersioned(m: Model | VersionedModel): m is VersionedModel {
  return !('predict' in m) && 'model' in m;
}

function compareVersions(a?: string, b?: string): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : 1;
}
