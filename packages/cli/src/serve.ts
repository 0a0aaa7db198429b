import { type ModelRepository, ModelServer, type ParsedFlags, serverOptionsFromFlags } from '@servekit/core';
import { resolveModelDir } from '@servekit/storage';
import { modelsFromDir } from './detect.js';

/** Register the models found in `dir`; returns how many. */
async function register(
  repository: ModelRepository,
  name: string | undefined,
  dir: string,
  flags: ParsedFlags,
): Promise<number> {
  const models = await modelsFromDir(name, dir, flags);
  for (const m of models) repository.register(m.model, m.version);
  return models.length;
}

/** `servekit serve`: resolve the model dir (or storage URI), detect the models, serve them until SIGTERM. */
export async function serve(flags: ParsedFlags): Promise<ModelServer> {
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
  const name = flags.model_name as string | undefined;
  await register(server.repository, name, dir, flags);
  // V2 repository `load` of a name that is not registered (e.g. after unload) re-reads it from the model dir.
  const modelDir = dir;
  server.repository.factory = async (wanted) => {
    const { join } = await import('node:path');
    const { existsSync } = await import('node:fs');
    const sub = join(modelDir, wanted);
    const models = await modelsFromDir(wanted, wanted === name || !existsSync(sub) ? modelDir : sub, flags);
    return models.map((m) => m.model);
  };
  await server.start();
  return server;
}
