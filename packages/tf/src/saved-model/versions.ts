import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One servable SavedModel found under a model directory. */
export interface SavedModelVersion {
  /** Version (the numeric folder name), or undefined for a bare `saved_model.pb` in the model dir. */
  version: string | undefined;
  /** Directory holding `saved_model.pb`. */
  path: string;
}

/** True when `dir` directly holds a `saved_model.pb`. */
export function isSavedModelDir(dir: string): boolean {
  return existsSync(join(dir, 'saved_model.pb'));
}

/**
 * The SavedModels of a model directory in TF Serving's layout: a bare `saved_model.pb` (one unversioned model),
 * else numeric version folders `<dir>/<n>/saved_model.pb`, oldest first (the last is the default).
 */
export function discoverSavedModelVersions(dir: string): SavedModelVersion[] {
  if (isSavedModelDir(dir)) return [{ version: undefined, path: dir }];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`model directory ${dir} does not exist`);
  const versions = readdirSync(dir)
    .filter((d) => /^\d+$/.test(d) && isSavedModelDir(join(dir, d)))
    .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0))
    .map((d) => ({ version: String(BigInt(d)), path: join(dir, d) }));
  if (versions.length === 0) {
    throw new Error(`${dir} holds neither saved_model.pb nor numeric version folders with one`);
  }
  return versions;
}
