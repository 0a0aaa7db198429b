import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkPredictorFlags } from '@servekit/client/flags';
import { type ModelFactory, ModelNotFound, ModelServer, serverOptionsFromFlags } from '@servekit/core';
import { holdsModel, modelFromDir, modelsFromDir } from './detect.js';
import type { ServeFlags } from './flags.js';
import { modelFromModule, moduleModelName } from './formats/custom.js';
import type { DetectContext } from './formats/index.js';
import { sessionOptionsFromFlags } from './session-flags.js';
import { applyV8MemoryFlags } from './v8-memory.js';

/**
 * The repository factory of `servekit serve`: V2 `POST /v2/repository/models/NAME/load` (a reload, a load after an
 * unload, or a new name) re-detects NAME from the folder it was first found in, or from a sub-folder NAME of the
 * model dir added since, with its versions.
 */
function redetect(modelDir: string, known: Map<string, string>, flags: ServeFlags, ctx: DetectContext): ModelFactory {
  return async (wanted) => {
    const sub = join(modelDir, wanted);
    const dir =
      known.get(wanted) ??
      (!wanted.includes('/') && !wanted.startsWith('.') && existsSync(sub) && statSync(sub).isDirectory()
        ? sub
        : undefined);
    // Only folders holding a model file are models: any other sub-folder is as unknown as a missing one.
    if (dir !== undefined && !known.has(wanted) && !holdsModel(dir, flags)) throw new ModelNotFound(wanted);
    if (dir === undefined) throw new ModelNotFound(wanted);
    return (await modelFromDir(wanted, dir, flags, ctx)).map((m) => ({ model: m.model, version: m.version }));
  };
}

/** The transformer flags make sense together and with `--model_module`; throws naming the flag otherwise. */
function checkTransformerFlags(flags: ServeFlags): void {
  checkPredictorFlags(flags);
  const host = flags.predictor_host;
  const dir = flags.predictor_model_dir;
  if ((host || dir) && !flags.model_module) {
    throw new Error(
      `--${host ? 'predictor_host' : 'predictor_model_dir'} needs --model_module path/to/transformer.js (a Transformer subclass)`,
    );
  }
  if (dir && (!existsSync(dir) || !statSync(dir).isDirectory())) {
    throw new Error(`--predictor_model_dir ${dir} is not a directory`);
  }
}

/** `--model_module` without a model dir: the module's class alone, re-created on a repository load. */
async function serveModule(
  server: ModelServer,
  flags: ServeFlags,
  modulePath: string,
  ctx: DetectContext,
): Promise<ModelServer> {
  const name = flags.model_name ?? moduleModelName(modulePath);
  const build = async (wanted: string) => {
    if (wanted !== name) throw new ModelNotFound(wanted);
    return (await modelFromModule(name, undefined, flags, { ...ctx, modelFromDir })).map((m) => m.model);
  };
  for (const m of await build(name)) server.repository.register(m);
  server.repository.factory = build;
  await server.start();
  return server;
}

/** The archive limits of `--storage_max_unpacked_bytes`, `--storage_max_unpack_ratio`, `--storage_max_entries`. */
function storageLimitsFromFlags(flags: ServeFlags): {
  maxUnpackedBytes?: number;
  maxUnpackRatio?: number;
  maxArchiveEntries?: number;
} {
  const out: { maxUnpackedBytes?: number; maxUnpackRatio?: number; maxArchiveEntries?: number } = {};
  const pairs = [
    ['storage_max_unpacked_bytes', 'maxUnpackedBytes'],
    ['storage_max_unpack_ratio', 'maxUnpackRatio'],
    ['storage_max_entries', 'maxArchiveEntries'],
  ] as const;
  for (const [flag, key] of pairs) {
    const v = flags[flag];
    if (!(v > 0)) {
      throw new Error(`--${flag} must be a positive number; got "${String(v)}"`);
    }
    out[key] = v;
  }
  return out;
}

/** `servekit serve`: resolve the model dir (or storage URI), detect the models, serve them until SIGTERM. */
export async function serve(flags: ServeFlags): Promise<ModelServer> {
  applyV8MemoryFlags(flags);
  sessionOptionsFromFlags(flags); // a bad onnxruntime flag stops the CLI before it serves anything
  checkTransformerFlags(flags);
  const server = new ModelServer(serverOptionsFromFlags(flags));
  if (server.isClusterPrimary) {
    await server.start();
    return server;
  }
  server.installSignalHandlers();
  const logger = {
    info: (m: string) => server.logger.info(m),
    warn: (m: string) => server.logger.warn(m),
    debug: (m: string) => server.logger.debug(m),
  };
  const storageUri = flags.storage_uri;
  let dir = flags.model_dir;
  if (storageUri) {
    // The storage package (HTTP, archives, and the cloud SDKs it loads per scheme) only for a --storage_uri.
    const { resolveModelDir } = await import('@servekit/storage');
    dir = await resolveModelDir(storageUri, {
      cacheDir: flags.storage_cache_dir,
      logger,
      ...storageLimitsFromFlags(flags),
    });
  }
  if (!dir && flags.model_module) return serveModule(server, flags, flags.model_module, { logger });
  if (!dir) throw new Error('servekit serve needs --model_dir DIR or --storage_uri URI (or --model_module m.js)');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--model_dir ${dir} is not a directory`);
  const models = await modelsFromDir(flags.model_name, dir, flags, { logger });
  const known = new Map<string, string>();
  for (const m of models) {
    server.repository.register(m.model, m.version);
    if (m.dir !== undefined) known.set(m.model.name, m.dir);
  }
  server.repository.factory = redetect(dir, known, flags, { logger });
  await server.start();
  return server;
}
