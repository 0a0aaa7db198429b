import { dirname, resolve, sep } from 'node:path';

/** A name from an archive or a bucket made safe to join under a root, or the reason it is not. */
export type SafePath = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Check an entry or object name and normalize it to a relative `a/b/c` path.
 * Refuses absolute paths (`/x`, `C:\x`), `..` segments, NUL bytes and empty names; backslashes count as separators.
 */
export function safeRelativePath(name: string): SafePath {
  if (name.includes('\0')) return { ok: false, reason: 'contains a NUL byte' };
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) return { ok: false, reason: 'is an absolute path' };
  const parts: string[] = [];
  for (const part of slashed.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return { ok: false, reason: 'contains a ".." segment' };
    parts.push(part);
  }
  if (parts.length === 0) return { ok: false, reason: 'is empty' };
  return { ok: true, path: parts.join('/') };
}

/** True when `candidate` (absolute) is `root` or lies below it. */
export function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

/** Where a symlink at `linkPath` (absolute) pointing at `target` lands, lexically; undefined for absolute targets. */
export function symlinkDestination(linkPath: string, target: string): string | undefined {
  const slashed = target.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) return undefined;
  return resolve(dirname(linkPath), slashed);
}
