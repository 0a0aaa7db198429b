import { copyFile, lstat, mkdir, open, realpath, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { ensureFreeSpace } from '../disk-space.js';
import { StorageError } from '../errors.js';
import { isInside, safeRelativePath, symlinkDestination } from '../safe-path.js';

/** Limits applied while unpacking. */
export interface ExtractLimits {
  /** Most bytes all entries may unpack to. */
  maxBytes: number;
  /** Most entries. */
  maxEntries: number;
}

/**
 * The directory an archive is unpacked into. Every entry name is checked (no absolute paths, no `..`),
 * sizes and entry counts are capped, and links are created last and only when they stay inside the root.
 */
export class ExtractTarget {
  private bytes = 0;
  private entries = 0;
  private readonly symlinks: Array<{ path: string; target: string; name: string }> = [];
  private readonly hardlinks: Array<{ path: string; from: string; name: string }> = [];
  private files = 0;

  constructor(
    private readonly uri: string,
    private readonly archiveName: string,
    readonly root: string,
    private readonly limits: ExtractLimits,
  ) {}

  /** Files written so far. */
  get fileCount(): number {
    return this.files;
  }

  /** Bytes written so far. */
  get byteCount(): number {
    return this.bytes;
  }

  /** Refuse the archive: an entry is unsafe. */
  unsafe(name: string, why: string): StorageError {
    return new StorageError('UNSAFE_ARCHIVE', `entry "${name}" ${why}`, { uri: this.uri, object: this.archiveName });
  }

  /** Refuse the archive: it is malformed or unsupported. */
  bad(why: string, cause?: unknown): StorageError {
    return new StorageError('BAD_ARCHIVE', why, { uri: this.uri, object: this.archiveName, cause });
  }

  /** Absolute path of a checked entry name; throws UNSAFE_ARCHIVE for names escaping the root. */
  resolve(name: string): string {
    const safe = safeRelativePath(name);
    if (!safe.ok) throw this.unsafe(name, `${safe.reason}; it would be written outside the model directory`);
    return join(this.root, safe.path);
  }

  /** Count one entry against the entry limit. */
  countEntry(name: string): void {
    this.entries++;
    if (this.entries > this.limits.maxEntries) {
      throw new StorageError('TOO_LARGE', `more than ${this.limits.maxEntries} entries (at "${name}")`, {
        uri: this.uri,
        object: this.archiveName,
      });
    }
  }

  /** Refuse up front when an archive's directory declares more entries than the cap (zip), before writing any. */
  checkEntryCount(count: number): void {
    if (count > this.limits.maxEntries) {
      throw new StorageError('TOO_LARGE', `declares ${count} entries, over the ${this.limits.maxEntries}-entry cap`, {
        uri: this.uri,
        object: this.archiveName,
      });
    }
  }

  /** Refuse up front when the declared unpacked size does not fit in the free disk space. */
  async checkDeclaredSpace(total: number): Promise<void> {
    this.checkDeclared(total);
    await ensureFreeSpace(this.root, total, `unpacking ${this.archiveName}`, {
      uri: this.uri,
      object: this.archiveName,
    });
  }

  /** Refuse up front when an archive declares more bytes than the cap. */
  checkDeclared(total: number): void {
    if (total > this.limits.maxBytes) {
      throw new StorageError('TOO_LARGE', `unpacks to ${total} bytes, over the ${this.limits.maxBytes}-byte cap`, {
        uri: this.uri,
        object: this.archiveName,
      });
    }
  }

  /** Create a directory entry. */
  async dir(name: string): Promise<void> {
    const safe = safeRelativePath(name);
    if (!safe.ok && safe.reason === 'is empty') return; // "./" is the root itself
    this.countEntry(name);
    await mkdir(this.resolve(name), { recursive: true });
  }

  /** Write a file entry from its chunks, enforcing the byte cap as data arrives. Returns bytes written. */
  async file(name: string, mode: number, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    this.countEntry(name);
    const path = this.resolve(name);
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, 'w', (mode & 0o111) !== 0 ? 0o755 : 0o644);
    let written = 0;
    try {
      for await (const chunk of chunks) {
        this.bytes += chunk.byteLength;
        if (this.bytes > this.limits.maxBytes) {
          throw new StorageError(
            'TOO_LARGE',
            `unpacks to more than the ${this.limits.maxBytes}-byte cap (at "${name}")`,
            {
              uri: this.uri,
              object: this.archiveName,
            },
          );
        }
        await handle.write(chunk, 0, chunk.byteLength, written);
        written += chunk.byteLength;
      }
    } finally {
      await handle.close();
    }
    this.files++;
    return written;
  }

  /** Record a symlink, created by finish() if its target stays inside the root. */
  symlink(name: string, target: string): void {
    this.countEntry(name);
    const path = this.resolve(name);
    const dest = symlinkDestination(path, target);
    if (dest === undefined) throw this.unsafe(name, `is a symlink to the absolute path "${target}"`);
    if (!isInside(this.root, dest)) throw this.unsafe(name, `is a symlink to "${target}", outside the model directory`);
    this.symlinks.push({ path, target, name });
  }

  /** Record a hard link to an earlier entry, made by finish() as a copy. */
  hardlink(name: string, linkedName: string): void {
    this.countEntry(name);
    const path = this.resolve(name);
    const safe = safeRelativePath(linkedName);
    if (!safe.ok) throw this.unsafe(name, `is a hard link to "${linkedName}", which ${safe.reason}`);
    this.hardlinks.push({ path, from: join(this.root, safe.path), name });
  }

  /** Create the recorded links, then verify that every symlink resolves inside the root. */
  async finish(): Promise<void> {
    const realRoot = await realpath(this.root);
    for (const link of this.hardlinks) {
      const st = await lstat(link.from).catch(() => undefined);
      if (!st?.isFile()) throw this.bad(`hard link "${link.name}" points at a missing or non-regular entry`);
      await this.assertParentInside(realRoot, link.path, link.name);
      await copyFile(link.from, link.path);
      this.bytes += st.size;
      this.checkDeclared(this.bytes);
      this.files++;
    }
    for (const link of this.symlinks) {
      await this.assertParentInside(realRoot, link.path, link.name);
      await symlink(link.target, link.path);
    }
    for (const link of this.symlinks) {
      let real: string;
      try {
        real = await realpath(link.path);
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ENOENT') continue; // dangling but inside: harmless
        throw this.unsafe(link.name, `is a symlink that cannot be resolved (${(err as Error).message})`);
      }
      if (!isInside(realRoot, real)) {
        throw this.unsafe(
          link.name,
          `is a symlink resolving to ${relative(realRoot, real)}, outside the model directory`,
        );
      }
    }
  }

  /** Make the parent directory and refuse when it resolves (through links) outside the root. */
  private async assertParentInside(realRoot: string, path: string, name: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    if (!isInside(realRoot, await realpath(dirname(path))))
      throw this.unsafe(name, 'would be written through a symlink leaving the model directory');
  }
}
