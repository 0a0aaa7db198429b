import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Model, ModelServer } from '@servekit/core';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import type { ConvertedSklearnModel } from '../src/index.js';
import type { GraphFeed } from '../src/request-encoding.js';

/** Absolute path of a file under the shared fixtures folder. */
export const fixture = (rel: string): string =>
  fileURLToPath(new URL(`../../../../shared/fixtures/${rel}`, import.meta.url));

/** Absolute path of a file under this package's generated fixtures. */
export const localFixture = (rel: string): string => fileURLToPath(new URL(`./fixtures/${rel}`, import.meta.url));

/** A ModelServer serving `models` over HTTP only on 127.0.0.1 (a free port, silent); its base URL. */
export async function serveOnLoopback(models: Model[]): Promise<{ server: ModelServer; base: string }> {
  const server = new ModelServer({
    httpPort: 0,
    host: '127.0.0.1',
    enableGrpc: false,
    logLevel: 'silent',
    defaultMetrics: false,
  });
  const { httpPort } = await server.start(models);
  return { server, base: `http://127.0.0.1:${httpPort}` };
}

/** POST `body` as JSON to `base + path`; the status and the parsed JSON answer. */
export async function postJson(
  base: string,
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Parsed JSON file. */
export const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** What running the converted graph gave. */
export interface RunResult {
  label?: (number | string)[];
  probabilities?: number[][];
  variable?: number[];
  matrix?: number[][];
}

function rows(data: ArrayLike<number>, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < data.length / cols; i++) out.push(Array.from(data).slice(i * cols, (i + 1) * cols));
  return out;
}

/** Run the converted graph in-process with onnxruntime-node. */
export async function runModel(model: ConvertedSklearnModel, feeds: GraphFeed[]): Promise<RunResult> {
  const out = await runGraph(model, feeds);
  const res: RunResult = {};
  if (out.label) {
    const d = out.label.data;
    res.label =
      typeof (d as ArrayLike<unknown>)[0] === 'bigint'
        ? Array.from(d as BigInt64Array, Number)
        : Array.from(d as ArrayLike<number | string>);
  }
  if (out.probabilities) res.probabilities = rows(out.probabilities.data as Float64Array, out.probabilities.dims[1]!);
  if (out.variable) {
    if (out.variable.dims.length === 1) res.variable = Array.from(out.variable.data as Float64Array);
    else res.matrix = rows(out.variable.data as Float64Array, out.variable.dims[1]!);
  }
  return res;
}

/** Every output of the converted graph, run once in-process with onnxruntime-node. */
export async function runGraph(
  model: ConvertedSklearnModel,
  feeds: GraphFeed[],
): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(model.onnx);
  const input: Record<string, ort.Tensor> = {};
  for (const f of feeds) input[f.name] = new ort.Tensor(f.type === 'DOUBLE' ? 'float64' : 'string', f.data, f.dims);
  try {
    return await session.run(input);
  } finally {
    await session.release();
  }
}

/** One method's output: its values (int64 as numbers) and dims. */
export interface MethodOutput {
  data: unknown[];
  dims: readonly number[];
}

/** The main output of every method the converted graph serves. */
export async function runMethods(
  model: ConvertedSklearnModel,
  feeds: GraphFeed[],
): Promise<Record<string, MethodOutput>> {
  const out = await runGraph(model, feeds);
  const res: Record<string, MethodOutput> = {};
  for (const [method, { output }] of Object.entries(model.methods)) {
    const t = out[output]!;
    res[method] = {
      data: Array.from(t.data as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : v)),
      dims: t.dims,
    };
  }
  return res;
}

/** Elementwise |a-b| <= rtol·|b| + atol. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `index ${i}: expected NaN, got ${a}`).toBe(true);
      continue;
    }
    const ok = Math.abs(a - e) <= rtol * Math.abs(e) + atol;
    expect(ok, `index ${i}: got ${a}, expected ${e} (rtol ${rtol})`).toBe(true);
  }
}
