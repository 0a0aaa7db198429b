import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The URL of the worker script `file` (e.g. `session-thread.js`) built beside the module whose `import.meta.url`
 * is `moduleUrl`, a module at the root of its package's src/. From dist, or from an installed package, that is the
 * sibling file; tests run the .ts sources under vitest, where the sibling is a .ts file a worker cannot start, so it
 * is the built one in ../dist (`npm test` builds first). Throws naming `pkg` to build when the file is missing.
 */
export function builtWorkerUrl(moduleUrl: string, file: string, pkg: string): URL {
  const url = moduleUrl.endsWith('.ts') ? new URL(`../dist/${file}`, moduleUrl) : new URL(`./${file}`, moduleUrl);
  if (!existsSync(fileURLToPath(url))) {
    throw new Error(`the worker script ${fileURLToPath(url)} is missing: build ${pkg} (npx tsc -b)`);
  }
  return url;
}
