import type { Model } from '@servekit/core';
import type { ServeFlags } from '../flags.js';

/** One model (version) built from a directory. */
export interface ServedModel {
  /** The model, not loaded yet. */
  model: Model;
  /** Its version, for versioned layouts. */
  version?: string;
  /** The folder it was detected in (set by `modelsFromDir`; used to re-detect it on a repository load). */
  dir?: string;
}

/** Where model formats log load-time decisions (e.g. the TensorFlow engine chosen per signature). */
export interface DetectLogger {
  /** A decision and its reason. */
  info(message: string): void;
  /** A fallback the operator should see. */
  warn(message: string): void;
  /** Detail for debugging (e.g. sub-folders skipped because they hold no model). */
  debug?(message: string): void;
}

/** Detection itself (detect.ts's `modelFromDir`): the model(s) `dir` holds, named `name`. */
export type ModelFromDir = (
  name: string,
  dir: string,
  flags: Partial<ServeFlags>,
  ctx?: DetectContext,
) => Promise<ServedModel[]>;

/**
 * What detection passes to every format besides the flags: `servekit serve` gives its server's logger, and
 * detection gives itself, so a format that serves another model folder (the custom format's
 * `--predictor_model_dir`) detects it without importing detect.ts back.
 */
export interface DetectContext {
  /** The server's logger. */
  logger?: DetectLogger;
  /** Model detection, set by detect.ts on every `create` it calls. */
  modelFromDir?: ModelFromDir;
}

/** A model format `servekit serve` knows: how to recognise its files and build the models. */
export interface ModelFormatHandler {
  /** Format name (`--model_format`). */
  name: string;
  /** The files of `dir` that identify this format (empty when it does not apply). */
  candidates(dir: string, files: string[]): string[];
  /** Build the model(s) named `name` from `dir`. */
  create(
    name: string,
    dir: string,
    flags: Partial<ServeFlags>,
    ctx?: DetectContext,
  ): ServedModel[] | Promise<ServedModel[]>;
}
