import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let cached: Set<string> | undefined;

/**
 * The TensorFlow op types the installed `@tensorflow/tfjs-converter` can execute, read from its op mapping
 * tables (`dist/operations/op_list/*.js`, one `tfOpName` per op), so the list always matches the installed version.
 */
export function tfjsSupportedOps(): Set<string> {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const dir = join(
    dirname(require.resolve('@tensorflow/tfjs-converter/package.json')),
    'dist',
    'operations',
    'op_list',
  );
  const ops = new Set<string>();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.js')) continue;
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/'tfOpName':\s*'(\w+)'/g)) ops.add(m[1]!);
  }
  if (ops.size === 0) throw new Error(`found no tfjs op mappings under ${dir}`);
  cached = ops;
  return ops;
}
