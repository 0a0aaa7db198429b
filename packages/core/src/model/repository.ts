import { ModelNotFound, ModelNotReady } from '../errors.js';
import type { Model } from './model.js';

/** Lifecycle state of a model in the repository (V2 repository extension names). */
export type ModelState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

/** Produces a (not yet loaded) model by name; used for V2 repository `load` of models not yet registered. */
export type ModelFactory = (name: string) => Promise<Model | Model[]> | Model | Model[];

interface Entry {
  model: Model;
  version?: string;
  state: ModelState;
  reason?: string;
}

/** One row of `POST /v2/repository/index`. */
export interface RepositoryIndexEntry {
  /** Model name. */
  name: string;
  /** Version, when versioned. */
  version?: string;
  /** Current state. */
  state: ModelState;
  /** Why the model is unavailable (load error), when it is. */
  reason?: string;
}

/**
 * Holds the served models, by name and version, with their load state.
 * The latest registered version (highest numeric, else last) is the default for unversioned requests.
 */
export class ModelRepository {
  private readonly models = new Map<string, Entry[]>();
  private readonly listeners = new Set<(name: string) => void>();

  /** Optional factory used by `load(name)` for names not registered yet (e.g. reading a model dir). */
  factory?: ModelFactory;

  /** Register a model (not loaded yet). A second model with the same name and version replaces the first. */
  register(model: Model, version?: string): void {
    const entries = this.models.get(model.name) ?? [];
    const kept = entries.filter((e) => e.version !== version);
    kept.push({ model, version, state: model.ready ? 'READY' : 'UNAVAILABLE' });
    kept.sort((a, b) => compareVersions(a.version, b.version));
    this.models.set(model.name, kept);
  }

  /** Call `fn` when a model's state changes (used to invalidate batchers). */
  onChange(fn: (name: string) => void): void {
    this.listeners.add(fn);
  }

  /** Names of all registered models. */
  names(): string[] {
    return [...this.models.keys()];
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
    if (e.state !== 'READY' || !e.model.ready) throw new ModelNotReady(name, e.reason ?? e.model.notReadyReason);
    return e.model;
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
      return e.state === 'READY' && e.model.ready;
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
        if (e.state === 'READY' && e.model.gatesServerReadiness && !e.model.ready) return false;
      }
    }
    return true;
  }

  /**
   * Load every version of `name` (registering it through the factory first if unknown).
   * A load failure is recorded (state UNAVAILABLE with the reason) and rethrown; other models are untouched.
   */
  async load(name: string): Promise<void> {
    if (!this.models.has(name)) {
      if (!this.factory) throw new ModelNotFound(name);
      const made = await this.factory(name);
      for (const m of Array.isArray(made) ? made : [made]) this.register(m);
    }
    const entries = this.models.get(name) ?? [];
    const errors: string[] = [];
    await Promise.all(
      entries.map(async (e) => {
        if (e.state === 'READY' && e.model.ready) return;
        e.state = 'LOADING';
        e.reason = undefined;
        try {
          await e.model.load();
          e.model.ready = true;
          e.state = 'READY';
        } catch (err) {
          e.model.ready = false;
          e.state = 'UNAVAILABLE';
          e.reason = err instanceof Error ? err.message : String(err);
          errors.push(e.reason);
        }
      }),
    );
    this.emit(name);
    if (errors.length > 0) throw new ModelNotReady(name, `Load failed: ${errors.join('; ')}`);
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

  /** Unload every version of `name` and remove it. */
  async unload(name: string): Promise<void> {
    const entries = this.models.get(name);
    if (!entries) throw new ModelNotFound(name);
    for (const e of entries) {
      e.state = 'UNLOADING';
      e.model.ready = false;
    }
    this.emit(name);
    await Promise.all(entries.map((e) => e.model.unload()));
    this.models.delete(name);
    this.emit(name);
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

  private emit(name: string): void {
    for (const fn of this.listeners) fn(name);
  }
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
