import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** `@servekit/<name>[/<subpath>]` (exactly that specifier) → the package's `src/<subpath or index>.ts`. */
const pkg = (name: string, subpath?: string): { find: RegExp; replacement: string } => ({
  find: new RegExp(`^@servekit/${name}${subpath ? `/${subpath}` : ''}$`),
  replacement: fileURLToPath(new URL(`./packages/${name}/src/${subpath ?? 'index'}.ts`, import.meta.url)),
});

export default defineConfig({
  resolve: {
    alias: [
      pkg('core'),
      pkg('core', 'wire'),
      pkg('core', 'retry'),
      pkg('client'),
      pkg('onnx'),
      pkg('storage'),
      pkg('sklearn'),
      pkg('xgboost'),
      pkg('tf'),
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
