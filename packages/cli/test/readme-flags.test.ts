// The README documents every flag servekit accepts, with its env var.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { envName } from '@servekit/core';
import { describe, expect, it } from 'vitest';
import { SERVE_FLAGS } from '../src/flags.js';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

describe('README', () => {
  it.each(SERVE_FLAGS.map((f) => [f.name, f] as const))('documents --%s and its env vars', (_name, flag) => {
    const row = readme.split('\n').find((l) => new RegExp(`^\\| \`--${flag.name}\` +\\|`).test(l));
    expect(row, `README row for --${flag.name}`).toBeDefined();
    for (const env of [envName(flag.name), ...(flag.env ?? [])]) expect(row).toContain(`\`${env}\``);
  });
});
