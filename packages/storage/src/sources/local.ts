import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { causeText, StorageError } from '../errors.js';
import type { OpenedObject, RemoteObject, Source } from './source.js';

/** Files of a local directory (or one local file) as a Source, for copying or unpacking them. */
export class LocalSource implements Source {
  constructor(
    private readonly uri: string,
    private readonly path: string,
  ) {}

  /** Every regular file under the path (symlinks followed), or the file itself. */
  async list(): Promise<RemoteObject[]> {
    const top = await this.statOrThrow(this.path);
    if (!top.isDirectory()) return [this.describe(this.path, basename(this.path), top.size, top.mtimeMs)];
    const out: RemoteObject[] = [];
    const seen = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      const real = await realpath(dir);
      if (seen.has(real)) return; // a symlink loop
      seen.add(real);
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        const st = await stat(full);
        if (st.isDirectory()) await walk(full);
        else if (st.isFile())
          out.push(this.describe(full, relative(this.path, full).split(sep).join('/'), st.size, st.mtimeMs));
      }
    };
    await walk(this.path);
    if (out.length === 0) throw new StorageError('NOT_FOUND', `no files in ${this.path}`, { uri: this.uri });
    return out;
  }

  /** A read stream from `offset`. */
  async open(object: RemoteObject, offset: number): Promise<OpenedObject> {
    return { body: createReadStream(object.key, { start: offset }), start: offset, size: object.size };
  }

  private describe(full: string, relPath: string, size: number, mtimeMs: number): RemoteObject {
    return { key: full, relPath, size, validator: `${size}-${Math.round(mtimeMs)}` };
  }

  private async statOrThrow(path: string) {
    try {
      return await stat(path);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new StorageError(code === 'ENOENT' ? 'NOT_FOUND' : 'ACCESS_DENIED', causeText(err), {
        uri: this.uri,
        object: path,
        cause: err,
      });
    }
  }
}
