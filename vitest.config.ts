import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkg = (name: string): string => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      // Subpath exports first: an alias also matches `<name>/…`.
      '@servekit/core/retry': fileURLToPath(new URL('./packages/core/src/retry.ts', import.meta.url)),
      '@servekit/core': pkg('core'),
      '@servekit/client': pkg('client'),
      '@servekit/onnx': pkg('onnx'),
      '@servekit/storage': pkg('storage'),
      '@servekit/sklearn': pkg('sklearn'),
      '@servekit/xgboost': pkg('xgboost'),
      '@servekit/tf': pkg('tf'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
