#!/usr/bin/env node
// The `servekit` command. Committed (not built) so that npm links it into node_modules/.bin at install time, in a
// clone (`npm ci`, before `npx tsc -b`) as from the registry. It runs the bundled CLI (../dist/bundle/servekit.js,
// built by `npm run bundle` after `tsc -b`, shipped in the npm tarball) when there is one, else the compiled CLI in
// ../dist/bin.js. SERVEKIT_BUNDLE=0 runs dist/bin.js even when the bundle exists, and so does a custom model.
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';

// V8's code cache for every module the CLI loads, kept on disk between starts (Node >= 22.1 has it; older Nodes
// skip this): a later start compiles far less. Enabled here, before the CLI's modules are loaded.
module.enableCompileCache?.();

/** Newest build-info time of the workspace packages, in a source checkout (no tsconfig is shipped in a tarball). */
function newestBuildInSourceTree() {
  if (!existsSync(new URL('../tsconfig.json', import.meta.url))) return 0;
  const packages = new URL('../../', import.meta.url);
  let newest = 0;
  for (const pkg of readdirSync(packages)) {
    const info = new URL(`${pkg}/tsconfig.tsbuildinfo`, packages);
    if (existsSync(info)) newest = Math.max(newest, statSync(info).mtimeMs);
  }
  return newest;
}

/**
 * A custom model (`--model_module`, or its env var) imports @servekit/core from node_modules, and its classes must be
 * the ones the CLI checks against (`instanceof Model`, `instanceof ServekitError`): the bundle has its own copy of
 * core, so such a start runs the unbundled CLI.
 */
function servesCustomModule() {
  return !!process.env.SERVEKIT_MODEL_MODULE || process.argv.some((a) => /^--model[_-]module(=|$)/.test(a));
}

/** The bundle when it exists and, in a source checkout, no package was rebuilt after it (a `tsc -b` alone). */
function bundleUrl() {
  if (process.env.SERVEKIT_BUNDLE === '0' || servesCustomModule()) return undefined;
  const stamp = new URL('../dist/bundle/bundle.json', import.meta.url);
  if (!existsSync(stamp)) return undefined;
  if (statSync(stamp).mtimeMs < newestBuildInSourceTree()) return undefined;
  return new URL('../dist/bundle/servekit.js', import.meta.url);
}

const cli = bundleUrl() ?? new URL('../dist/bin.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'servekit: the CLI is not built (packages/cli/dist/bin.js is missing); run `npx tsc -b` in the repository first\n',
  );
  process.exit(1);
}
await import(cli.href);
