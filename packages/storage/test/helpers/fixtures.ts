import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorageLogger } from '../../src/index.js';

/** The real XGBoost fixture model directory. */
export const IRIS_DIR = fileURLToPath(
  new URL('../../../../../shared/fixtures/xgboost/iris_multiclass', import.meta.url),
);

/** The fixture's files: name → bytes. */
export function irisFiles(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(IRIS_DIR)) out.set(name, readFileSync(join(IRIS_DIR, name)));
  return out;
}

/** A fresh temp directory. */
export function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `servekit-storage-${label}-`));
}

/** Every file under `dir` (relative `/` paths) with its bytes. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out.set(relative(dir, full).split('\\').join('/'), await readFile(full));
  }
  return out;
}

/** A logger that keeps its lines. */
export function memoryLogger(): StorageLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`WARN ${m}`) };
}

/** Names in a directory (empty when it does not exist). */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}
