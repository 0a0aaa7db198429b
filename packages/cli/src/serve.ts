import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ModelFactory,
  ModelNotFound,
  ModelServer,
  type ParsedFlags,
  serverOptionsFromFlags,
} from '@servekit/core';
import { resolveModelDir } from '@servekit/storage';
import { modelFromDir, modelsFromDir } from './detect.js';
import { checkChoices } from './flags.js';
import { sessionOptionsFromFlags } from './session-flags.js';

/**
 * The repository factory of `servekit serve`: V2 `POST /v2/repository/models/NAME/load` of a name that is not
 * registered (e.g. after an unload) re-detects NAME from the folder it was first found in, or from a sub-folder
 * NAME of the model dir added since. Versions are registered directly (the factory's return has no version slot).
 */
function redetect(server: ModelServer, modelDir: string, known: Map<string, string>, flags: ParsedFlags): ModelFactory {
  return async (wanted) => {
    const sub = join(modelDir, wanted);
    const dir =
      known.get(wanted) ??
      (!wanted.includes('/') && !wanted.startsWith('.') && existsSync(sub) && statSync(sub).isDirectory()
        ? sub
        : undefined);
    if (dir === undefined) throw new ModelNotFound(wanted);
    const found = await modelFromDir(wanted, dir, flags);
    for (const m of found) if (m.version !== undefined) server.repository.register(m.model, m.version);
    return found.filter((m) => m.version === undefined).map((m) => m.model);
  };
}

/** `servekit serve`: resolve the model dir (or storage URI), detect the models, serve them until SIGTERM. */
export async function serve(flags: ParsedFlags): Promise<ModelServer> {
  sessionOptionsFromFlags(flags); // a bad onnxruntime flag stops the CLI before it serves anything
  checkChoices(flags);
  const server = new ModelServer(serverOptionsFromFlags(flags));
  if (server.isClusterPrimary) {
    await server.start();
    return server;
  }
  server.installSignalHandlers();
  const storageUri = flags.storage_uri as string | undefined;
  let dir = flags.model_dir as string | undefined;
  if (storageUri) {
    const logger = { info: (m: string) => server.logger.info(m), warn: (m: string) => server.logger.warn(m) };
    dir = await resolveModelDir(storageUri, { cacheDir: flags.storage_cache_dir as string | undefined, logger });
  }
  if (!dir) throw new Error('servekit serve needs --model_dir DIR or --storage_uri URI');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--model_dir ${dir} is not a directory`);
  const models = await modelsFromDir(flags.model_name as string | undefined, dir, flags);
  const known = new Map<string, string>();
  for (const m of models) {
    server.repository.register(m.model, m.version);
    if (m.dir !== undefined) known.set(m.model.name, m.dir);
  }
  server.repository.factory = redetect(server, dir, known, flags);
  await server.start();
  return server;
}
