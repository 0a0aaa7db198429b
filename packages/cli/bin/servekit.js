#!/usr/bin/env node
// The `servekit` command. Committed (not built) so that npm links it into node_modules/.bin at install time, in a
// clone (`npm ci`, before `npx tsc -b`) as from the registry; it runs the compiled CLI in ../dist/bin.js.
import { existsSync } from 'node:fs';
import module from 'node:module';

// V8's code cache for every module the CLI loads, kept on disk between starts (Node >= 22.1 has it; older Nodes
// skip this): a later start compiles far less. Enabled here, before the CLI's modules are loaded.
module.enableCompileCache?.();

const cli = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'servekit: the CLI is not built (packages/cli/dist/bin.js is missing); run `npx tsc -b` in the repository first\n',
  );
  process.exit(1);
}
await import(cli.href);
