import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveKindOfName } from './archive/kind.js';
import { removeStaleTempsIn } from './atomic-dir.js';
import { download } from './download.js';
import { causeText, StorageError } from './errors.js';
import { stderrLogger } from './logger.js';
import type { ResolveOptions } from './types.js';
import { parseStorageUri, pvcPath } from './uri.js';

/** Default cache directory for remote downloads. */
export function defaultCacheDir(): string {
  return join(tmpdir(), 'servekit-models');
}

/** Cache subdirectory name of a URI: a readable slug plus a hash of the whole URI. */
export function cacheKey(uri: string): string {
  const withoutQuery = uri.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const last = withoutQuery.slice(withoutQuery.lastIndexOf('/') + 1).replace(/\.(tar\.gz|tgz|tar|zip)$/i, '');
  const slug =
    last
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[.]+/, '')
      .slice(0, 40) || 'model';
  return `${slug}-${createHash('sha256').update(uri).digest('hex').slice(0, 16)}`;
}

/**
 * The local directory to serve a model from. Local paths and file:// are used in place, pvc://name/path is
 * `<pvcRoot>/name/path`; remote URIs (s3://, gs://, http(s)://) and local archives are downloaded (or reused)
 * under `cacheDir`, one directory per URI. Throws StorageError naming the URI and cause.
 */
export async function resolveModelDir(uri: string, options: ResolveOptions = {}): Promise<string> {
  const parsed = parseStorageUri(uri);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  // Downloads or unpacks cut short by a killed process (of any URI) are removed before anything else is written.
  const stale = await removeStaleTempsIn(cacheDir);
  if (stale.length > 0) {
    (options.logger ?? stderrLogger).info(`removed ${stale.length} unfinished download(s) left in ${cacheDir}`);
  }
  if (parsed.kind === 'local' || parsed.kind === 'pvc') {
    const path =
      parsed.kind === 'local' ? parsed.path : pvcPath(uri, parsed.claim, parsed.path, options.pvcRoot ?? '/mnt/pvc');
    let isFile: boolean;
    try {
      isFile = (await stat(path)).isFile();
    } catch (err) {
      const code = (err as { code?: unknown }).code === 'ENOENT' ? 'NOT_FOUND' : 'ACCESS_DENIED';
      throw new StorageError(code, `local path ${path}: ${causeText(err)}`, { uri, cause: err });
    }
    if (isFile && options.unpackArchives !== false && archiveKindOfName(path) !== undefined) {
      return (await download(uri, join(cacheDir, cacheKey(uri)), options)).dir;
    }
    (options.logger ?? stderrLogger).info(`serving ${uri} in place from ${path}`);
    return path;
  }
  return (await download(uri, join(cacheDir, cacheKey(uri)), options)).dir;
}
