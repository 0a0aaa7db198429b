/** Free disk space checks made before downloading or unpacking, against the sizes the store or archive declares. */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorageError } from './errors.js';
import { formatMB } from './progress.js';

/** Bytes available to this user on the filesystem holding `path` (or its nearest existing parent); undefined when unknown. */
export async function freeBytes(path: string): Promise<number | undefined> {
  for (let p = path; ; p = dirname(p)) {
    try {
      const st = await statfs(p);
      return Number(st.bavail) * Number(st.bsize);
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

/** Throw NO_SPACE when `bytes` (declared) do not fit in the free space at `path`, before anything is written. */
export async function ensureFreeSpace(
  path: string,
  bytes: number,
  what: string,
  init: { uri: string; object?: string },
): Promise<void> {
  const free = await freeBytes(path);
  if (free !== undefined && bytes > free) {
    throw new StorageError(
      'NO_SPACE',
      `${what} needs ${formatMB(bytes)} but only ${formatMB(free)} is free on the cache's disk`,
      init,
    );
  }
}
