import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What a finished (or starting) download records next to its directory. */
export interface DownloadMarker {
  /** Format version of this file. */
  version: 1;
  /** The storage URI downloaded. */
  uri: string;
  /** Fingerprint of the store's validators; undefined when the store gave none (never a cache hit). */
  fingerprint: string | undefined;
  /** False while the directory is being replaced. */
  complete: boolean;
  /** Files in the directory. */
  files: number;
  /** Bytes fetched. */
  bytes: number;
  /** When the download finished (ISO 8601). */
  writtenAt: string;
}

/** Path of the marker file of a model directory: `<dir>.servekit-storage.json`, beside it. */
export function markerPath(dir: string): string {
  return `${dir}.servekit-storage.json`;
}

/** The marker of a model directory, or undefined when there is none (or it is unreadable). */
export async function readMarker(dir: string): Promise<DownloadMarker | undefined> {
  try {
    const parsed = JSON.parse(await readFile(markerPath(dir), 'utf8')) as Partial<DownloadMarker>;
    if (parsed.version !== 1 || typeof parsed.uri !== 'string') return undefined;
    return parsed as DownloadMarker;
  } catch {
    return undefined;
  }
}

/** Write the marker atomically (temp file + rename). */
export async function writeMarker(dir: string, marker: DownloadMarker): Promise<void> {
  const path = markerPath(dir);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(marker, null, 2)}\n`);
  await rename(tmp, path);
}

/** Prefix of the temp directories made next to `dir` by this module. */
function tempPrefix(dir: string): string {
  return `.${basename(dir)}.tmp-`;
}

/** Temp directories this process is writing now (a dead process with our pid may have left others: PID 1 in a container). */
const ownTemps = new Set<string>();

/** Name of a fresh temp directory next to `dir` (same filesystem, so the final rename is atomic). */
export function tempDirFor(dir: string): string {
  const temp = join(
    dirname(dir),
    `${tempPrefix(dir)}${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
  );
  ownTemps.add(temp);
  return temp;
}

/** Forget a temp directory of this process once it is removed. */
export function releaseTemp(temp: string): void {
  ownTemps.delete(temp);
}

/** Temp directory names of this module: `.<dir name>.tmp-<pid>-<unique>`. */
const TEMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-z]+$/;

/** True when process `pid` is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code === 'EPERM';
  }
}

/**
 * Remove the temp directories in `parent` left by processes that died mid-download or mid-unpack (of any URI):
 * those of a pid no longer alive, and those of our own pid that this process did not make (a restarted
 * container's process gets the same pid as the killed one). Returns the names removed.
 */
export async function removeStaleTempsIn(parent: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const path = join(parent, name);
    const pid = Number(m[1]);
    const stale = pid === process.pid ? !ownTemps.has(path) : !alive(pid);
    if (stale) {
      await rm(path, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

/** Remove stale temp directories next to `dir` (see removeStaleTempsIn). */
export async function removeStaleTemps(dir: string): Promise<void> {
  await removeStaleTempsIn(dirname(dir));
}

/** 'missing', 'empty', 'nonempty' or 'file' for a destination path. */
export async function destinationState(dir: string): Promise<'missing' | 'empty' | 'nonempty' | 'file'> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) return 'file';
    return (await readdir(dir)).length === 0 ? 'empty' : 'nonempty';
  } catch {
    return 'missing';
  }
}

/**
 * Put the finished directory `ready` at `dir`. An existing `dir` is first renamed to `trash`
 * (inside the temp area, removed by the caller); when it cannot be renamed (a mount point),
 * its entries are replaced one by one.
 */
export async function commitDir(ready: string, dir: string, trash: string): Promise<void> {
  const state = await destinationState(dir);
  if (state !== 'missing') {
    try {
      await rename(dir, trash);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== 'EBUSY' && code !== 'EXDEV' && code !== 'EPERM' && code !== 'EACCES') throw err;
      for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
      for (const name of await readdir(ready)) await rename(join(ready, name), join(dir, name));
      return;
    }
  }
  await rename(ready, dir);
}
