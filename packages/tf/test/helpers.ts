import { chmodSync, cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

/** One input or output tensor of an expected.json case. */
export interface TensorCase {
  /** TF dtype name, e.g. `DT_FLOAT`. */
  dtype: string;
  /** Dims (default: a vector of `data`). */
  shape?: number[];
  /** Values, row-major. */
  data: number[];
}

/** One case of fixtures/tf/expected.json. */
export interface FixtureCase {
  /** Signature the case runs (absent: not a tensor case). */
  signature?: string;
  /** Inputs by signature key (`examples`: a tf.Example case). */
  inputs?: Record<string, TensorCase> & { examples?: unknown };
  /** Expected outputs by signature key. */
  outputs?: Record<string, { data: number[]; shape?: number[] }>;
  /** Relative tolerance of the comparison. */
  tolerance?: number;
}

/** fixtures/tf/expected.json: cases by model folder. */
export const expectedCases = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as Record<
  string,
  { cases?: FixtureCase[] }
>;

/** Every expected.json case that is a plain tensor case (tf.Example cases excluded), with its model folder. */
export const tensorCases: Array<{ name: string; c: FixtureCase; label: string }> = Object.entries(expectedCases)
  .filter(([name]) => !name.startsWith('_'))
  .flatMap(([name, spec]) =>
    (spec.cases ?? [])
      .filter((c) => c.signature !== undefined && c.inputs !== undefined && c.inputs.examples === undefined)
      .map((c, i) => ({ name, c, label: `${name} #${i} ${c.signature}` })),
  );
