import { StorageError } from '../errors.js';
import { safeRelativePath } from '../safe-path.js';
import type { RemoteObject } from './source.js';

/** A listed object before it is placed in the model directory. */
export interface ListedObject {
  key: string;
  size?: number;
  validator?: string;
  md5?: string;
}

/**
 * Place listed objects of a bucket under the model directory, KServe-style:
 * a key equal to the prefix is a single file (its basename); otherwise the prefix is a folder and
 * `prefix/a/b` lands at `a/b`. Keys of sibling objects (`prefix-x`) and folder markers (`x/`) are ignored.
 */
export function placeObjects(uri: string, prefix: string, listed: readonly ListedObject[]): RemoteObject[] {
  const exact = prefix !== '' && !prefix.endsWith('/') ? listed.find((o) => o.key === prefix) : undefined;
  if (exact) {
    const base = prefix.slice(prefix.lastIndexOf('/') + 1);
    return [{ ...exact, relPath: checked(uri, exact.key, base) }];
  }
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const out: RemoteObject[] = [];
  for (const o of listed) {
    if (o.key.endsWith('/') || !o.key.startsWith(folder)) continue;
    out.push({ ...o, relPath: checked(uri, o.key, o.key.slice(folder.length)) });
  }
  return out;
}

/** Refuse object keys that would land outside the model directory. */
function checked(uri: string, key: string, rel: string): string {
  const safe = safeRelativePath(rel);
  if (!safe.ok)
    throw new StorageError('UNSAFE_ARCHIVE', `object key ${safe.reason}; refusing to write it`, { uri, object: key });
  return safe.path;
}
