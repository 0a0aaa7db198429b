import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Model } from '@servekit/core';
import type { ServeFlags } from '../flags.js';
import type { DetectContext, ModelFormatHandler, ServedModel } from './format.js';

/** Constructor shape a `--model_module` class must have (a Transformer subclass fits it). */
type ModelClass = new (name: string, options: Record<string, unknown>) => Model;

/**
 * The in-process predictor of `--predictor_model_dir`: the model detected in `dir` by `servekit serve`'s own
 * format detection (never the `--model_module` class itself); for a versioned dir, its highest version.
 */
async function localPredictorModel(
  dir: string,
  name: string,
  flags: Partial<ServeFlags>,
  ctx?: DetectContext,
): Promise<Model> {
  if (!ctx?.modelFromDir) throw new Error('--predictor_model_dir needs model detection (DetectContext.modelFromDir)');
  const found = await ctx.modelFromDir(name, dir, { ...flags, model_module: undefined, model_format: undefined }, ctx);
  const plain = found.find((m) => m.version === undefined);
  if (plain) return plain.model;
  const highest = [...found].sort((a, b) => Number(b.version) - Number(a.version))[0];
  if (!highest) throw new Error(`no model in ${dir}`);
  return highest.model;
}

/** The default model name of a module served without `--model_name`: its file name without the extension. */
export function moduleModelName(path: string): string {
  return basename(path, extname(path));
}

/**
 * `--model_module path.js`: the user's own Model subclass (default export or `model`), constructed as
 * `new Cls(name, { modelDir, flags, predictor?, predictorModel?, healthCheck })` — the transformer options of the
 * `--predictor_*` flags, the predictor present when `--predictor_host` or `--predictor_model_dir` is given.
 */
export async function modelFromModule(
  name: string,
  dir: string | undefined,
  flags: Partial<ServeFlags>,
  ctx?: DetectContext,
): Promise<ServedModel[]> {
  const path = flags.model_module;
  if (!path) throw new Error('--model_format custom needs --model_module path/to/model.js');
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown; model?: unknown };
  const Cls = (mod.default ?? mod.model) as ModelClass | undefined;
  if (typeof Cls !== 'function' || !(Cls.prototype instanceof Model)) {
    throw new Error(`${path} must export a Model subclass as its default export or as \`model\``);
  }
  // The clients (HTTP, gRPC) only for a custom model, which may be a transformer.
  const { transformerOptionsFromFlags } = await import('@servekit/client');
  const transformer = transformerOptionsFromFlags(flags, {
    loadLocalModel: (predictorDir, predictorName) => localPredictorModel(predictorDir, predictorName, flags, ctx),
    defaultLocalName: name,
  });
  return [{ model: new Cls(name, { modelDir: dir, flags, ...transformer }) }];
}

/** `--model_module path.js`: the user's own Model subclass (default export or `model`), e.g. a transformer. */
export const customFormat: ModelFormatHandler = {
  name: 'custom',
  candidates: () => [],
  create: (name, dir, flags, ctx) => modelFromModule(name, dir, flags, ctx),
};
