import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Model } from '@servekit/core';
import { MODEL_FORMATS, type ServeFlags } from './flags.js';
import { type DetectContext, FORMATS, type ModelFormatHandler, type ServedModel } from './formats/index.js';

/** A placeholder for a model that could not even be built: it fails to load with the reason, visibly. */
class UnservableModel extends Model {
  constructor(
    name: string,
    private readonly reason: string,
  ) {
    super(name);
  }

  override load(): void {
    throw new Error(this.reason);
  }

  override predict(): never {
    throw new Error(this.reason);
  }
}

function handlerByName(format: string): ModelFormatHandler {
  const h = FORMATS.find((f) => f.name === format);
  if (!h) throw new Error(`unknown --model_format "${format}"; known: ${MODEL_FORMATS.join(', ')}`);
  return h;
}

const isVersionName = (d: string): boolean => /^\d+$/.test(d);

function subdirectories(dir: string): string[] {
  const isDir = (d: string): boolean => {
    try {
      return statSync(join(dir, d)).isDirectory();
    } catch {
      return false; // dangling link, no permission
    }
  };
  return readdirSync(dir)
    .filter((d) => !d.startsWith('.') && isDir(d))
    .sort();
}

/** No model of a known format in the model dir nor in any of its sub-folders. */
export class NoModelFound extends Error {
  override readonly name = 'NoModelFound';
}

/**
 * Whether `dir` holds a model file of a known format (of the forced `--model_format` when given), directly or
 * in numeric version folders. Unreadable folders hold none. Two formats in one folder count: that is a model
 * folder with an error to report.
 */
export function holdsModel(dir: string, flags: Partial<ServeFlags> = {}): boolean {
  try {
    const files = readdirSync(dir);
    const forced = flags.model_format;
    const handlers = forced ? FORMATS.filter((f) => f.name === forced) : FORMATS;
    if (handlers.some((h) => h.candidates(dir, files).length > 0)) return true;
    return subdirectories(dir).some((v) => isVersionName(v) && holdsModel(join(dir, v), flags));
  } catch {
    return false;
  }
}

/** The format of one model directory; undefined when none matches, an error when two formats do. */
export function detectFormat(dir: string): ModelFormatHandler | undefined {
  const files = readdirSync(dir);
  const matches = FORMATS.map((handler) => ({ handler, files: handler.candidates(dir, files) })).filter(
    (m) => m.files.length > 0,
  );
  if (matches.length > 1) {
    const found = matches.map((m) => `${m.handler.name}: ${m.files.join(', ')}`).join('; ');
    throw new Error(
      `the model folder holds files of several model formats (${found}); keep one or pass --model_format`,
    );
  }
  return matches[0]?.handler;
}

async function build(
  name: string,
  dir: string,
  flags: Partial<ServeFlags>,
  given: DetectContext,
): Promise<ServedModel[]> {
  // Formats get detection itself in their context (the custom format detects its --predictor_model_dir with it).
  const ctx: DetectContext = { ...given, modelFromDir };
  if (flags.model_module) return handlerByName('custom').create(name, dir, flags, ctx);
  const forced = flags.model_format;
  if (forced) {
    const handler = handlerByName(forced);
    // A forced format with no file of its own here but model sub-folders: a multi-model dir of that format.
    if (handler.candidates(dir, readdirSync(dir)).length === 0 && subdirectories(dir).some((d) => !isVersionName(d))) {
      throw new Error(`no ${forced} model file in the model folder`);
    }
    return handler.create(name, dir, flags, ctx);
  }
  const handler = detectFormat(dir);
  if (handler) return handler.create(name, dir, flags, ctx);
  // Numeric sub-folders holding models are versions of one model.
  const subdirs = subdirectories(dir);
  const versions = subdirs.filter(isVersionName);
  if (versions.length > 0 && versions.length === subdirs.length) {
    const out: ServedModel[] = [];
    for (const v of versions.sort((a, b) => Number(a) - Number(b))) {
      for (const m of await build(name, join(dir, v), flags, ctx))
        out.push({ model: m.model, version: String(Number(v)) });
    }
    return out;
  }
  throw new Error(
    'no model file in the model folder (looked for *.onnx, model.joblib|.pkl|.pickle, model.bst|.json|.ubj, model.txt, saved_model.pb)',
  );
}

/**
 * The model (or its versions) held by `dir`, named `name`. A model that cannot be built is still returned, as a
 * model whose load fails with the reason, so the server reports it and keeps serving the others.
 */
export async function modelFromDir(
  name: string,
  dir: string,
  flags: Partial<ServeFlags>,
  ctx: DetectContext = {},
): Promise<ServedModel[]> {
  try {
    return (await build(name, dir, flags, ctx)).map((m) => ({ ...m, dir }));
  } catch (err) {
    return [{ model: new UnservableModel(name, (err as Error).message), dir }];
  }
}

/**
 * The models to serve from `dir`: one model named `name` when the dir holds a model (or its numeric
 * versions), else one model per sub-folder holding a model file, named after the folder (KServe's multi-model
 * fallback); other sub-folders are ignored (a debug line each). A model that cannot be built is still
 * returned, as a model whose load fails with the reason, so the server reports it and keeps serving the others.
 * Throws NoModelFound when neither `dir` nor any sub-folder holds a model file.
 */
export async function modelsFromDir(
  name: string | undefined,
  dir: string,
  flags: Partial<ServeFlags>,
  ctx: DetectContext = {},
): Promise<ServedModel[]> {
  const modelName = name ?? basename(dir);
  try {
    return (await build(modelName, dir, flags, ctx)).map((m) => ({ ...m, dir }));
  } catch (err) {
    if (flags.model_module || holdsModel(dir, flags)) {
      return [{ model: new UnservableModel(modelName, (err as Error).message), dir }];
    }
    const out: ServedModel[] = [];
    for (const sub of subdirectories(dir).filter((d) => !isVersionName(d))) {
      if (!holdsModel(join(dir, sub), flags)) {
        ctx.logger?.debug?.(`ignoring sub-folder "${sub}" of the model dir: no model file in it`);
        continue;
      }
      out.push(...(await modelFromDir(sub, join(dir, sub), flags, ctx)));
    }
    if (out.length === 0) {
      throw new NoModelFound(
        `nothing to serve in ${dir}: no model file in it nor in any sub-folder (looked for *.onnx, model.joblib|.pkl|.pickle, model.bst|.json|.ubj, model.txt, saved_model.pb)`,
      );
    }
    return out;
  }
}
