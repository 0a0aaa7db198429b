import { chmodSync, cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Datatype, InferContext, InferTensor } from '@servekit/core';

/** Absolute path of a fixture under shared/fixtures/tf/. */
export const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../../shared/fixtures/tf/${name}`, import.meta.url));

const DT: Record<string, Datatype> = { DT_FLOAT: 'FP32', DT_INT32: 'INT32', DT_INT64: 'INT64', DT_UINT8: 'UINT8' };

/** An InferTensor from an expected.json input entry (`{dtype, shape?, data}`). */
export function tensorFromCase(name: string, spec: { dtype: string; shape?: number[]; data: number[] }): InferTensor {
  const datatype = DT[spec.dtype];
  if (datatype === undefined) throw new Error(`unknown dtype ${spec.dtype}`);
  const shape = spec.shape ?? [spec.data.length];
  const data =
    datatype === 'FP32'
      ? Float32Array.from(spec.data)
      : datatype === 'INT32'
        ? Int32Array.from(spec.data)
        : datatype === 'INT64'
          ? BigInt64Array.from(spec.data.map((v) => BigInt(v)))
          : Uint8Array.from(spec.data);
  return { name, datatype, shape, data };
}

/** Numbers of a tensor's data. */
export const numbers = (t: InferTensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));

/** A minimal request context. */
export function ctx(protocol: InferContext['protocol'] = 'v2'): InferContext {
  return { headers: {}, protocol, requestId: 'test', signal: new AbortController().signal };
}

/** Copy a (read-only) fixture to `dest` and make the copy writable, so tests can damage it and delete it. */
export function copyFixture(name: string, dest: string): string {
  cpSync(fixture(name), dest, { recursive: true });
  const walk = (p: string): void => {
    const isDir = statSync(p).isDirectory();
    chmodSync(p, isDir ? 0o755 : 0o644);
    if (isDir) for (const c of readdirSync(p)) walk(join(p, c));
  };
  walk(dest);
  return dest;
}
