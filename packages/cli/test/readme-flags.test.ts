// The README documents every flag servekit accepts, with its env var.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { envName, type FlagSpec, SERVER_FLAGS } from '@servekit/core';
import { describe, expect, it } from 'vitest';
import { SERVE_FLAGS } from '../src/flags.js';
import { SESSION_FLAGS } from '../src/session-flags.js';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const cliReadme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const serveSpecs: readonly FlagSpec[] = SERVE_FLAGS;
/** The flags of src/flags.ts's own list (not the shared server flags, not the onnxruntime session flags). */
const SERVE_ONLY = serveSpecs.filter((f) => ![...SERVER_FLAGS, ...SESSION_FLAGS].some((s) => s.name === f.name));

describe('README', () => {
  it.each(serveSpecs.map((f) => [f.name, f] as const))('documents --%s and its env vars', (_name, flag) => {
    const row = readme.split('\n').find((l) => new RegExp(`^\\| \`--${flag.name}\` +\\|`).test(l));
    expect(row, `README row for --${flag.name}`).toBeDefined();
    for (const env of [envName(flag.name), ...(flag.env ?? [])]) expect(row).toContain(`\`${env}\``);
  });
});

describe('packages/cli/README.md', () => {
  it.each(SERVE_ONLY.map((f) => [f.name, f] as const))('documents --%s and its env vars', (_name, flag) => {
    const row = cliReadme.split('\n').find((l) => new RegExp(`^\\| \`--${flag.name}\` +\\|`).test(l));
    expect(row, `packages/cli/README.md row for --${flag.name}`).toBeDefined();
    for (const env of [envName(flag.name), ...(flag.env ?? [])]) expect(row).toContain(`\`${env}\``);
  });

  it('names every format detector module', () => {
    for (const m of ['onnx.ts', 'sklearn.ts', 'trees.ts', 'tensorflow.ts']) expect(cliReadme).toContain(`\`${m}\``);
  });
});
