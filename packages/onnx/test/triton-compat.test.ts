// ONNX models as Triton's clients see them: BYTES through ONNX string tensors are carried exactly or refused (never
// changed), ZipMap classifiers keep the output names their file declares, and their class labels serve the
// classification extension.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClientError, GrpcClient } from '@servekit/client';
import { ModelServer } from '@servekit/core';
import { GraphBuilder, OnnxModel } from '@servekit/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FIX = fileURLToPath(new URL('../../../../shared/fixtures/onnx/', import.meta.url));

/** A one-node string identity model: `s` string[N] → `out` string[N]. */
function stringIdentity(): Uint8Array {
  const g = new GraphBuilder();
  g.input('s', 'STRING', ['N']);
  g.node('Identity', ['s'], ['out']);
  g.output('out', 'STRING', ['N']);
  return g.toBytes();
}

let server: ModelServer;
let base: string;
let grpc: GrpcClient;

beforeAll(async () => {
  server = new ModelServer({ httpPort: 0, grpcPort: 0, host: '127.0.0.1', logLevel: 'silent', defaultMetrics: false });
  await server.start([
    new OnnxModel('strings', { modelBytes: stringIdentity() }),
    new OnnxModel('iris', { modelDir: join(FIX, 'sklearn-onnx-docs/logreg_iris') }),
  ]);
  base = `http://127.0.0.1:${server.httpPort}`;
  grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
});

afterAll(async () => {
  grpc.close();
  await server.stop();
});

async function infer(model: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function grpcError(data: Uint8Array[]): Promise<ClientError> {
  return grpc.infer('strings', { inputs: [{ name: 's', datatype: 'BYTES', shape: [data.length], data }] }).then(
    () => {
      throw new Error('the request should have been refused');
    },
    (err: ClientError) => err,
  );
}

describe('BYTES through an ONNX string tensor', () => {
  it('carries UTF-8 text exactly', async () => {
    const text = ['hello', 'wörld', '', '日本語 🚀'];
    const res = await grpc.infer('strings', {
      inputs: [{ name: 's', datatype: 'BYTES', shape: [4], data: text.map((t) => Buffer.from(t, 'utf8')) }],
    });
    const out = (res.outputs[0]!.data as Array<Uint8Array | string>).map((b) =>
      typeof b === 'string' ? b : Buffer.from(b).toString('utf8'),
    );
    expect(out).toEqual(text);
  });

  it('refuses an embedded NUL with a 400 naming the input and the element (never truncates)', async () => {
    const err = await grpcError([Buffer.from('ok'), Buffer.from('he\u0000llo', 'latin1')]);
    expect(err.grpcCode).toBe(3); // INVALID_ARGUMENT
    expect(err.message).toMatch(/Input "s": element 1 holds a NUL byte/);
    const rest = await infer('strings', { inputs: [{ name: 's', datatype: 'BYTES', shape: [1], data: ['a\u0000b'] }] });
    expect(rest.status).toBe(400);
    expect(rest.body.error).toMatch(/Input "s": element 0 holds a NUL byte/);
  });

  it('refuses bytes that are not UTF-8 with a 400 naming the input and the element (never U+FFFD)', async () => {
    const err = await grpcError([Uint8Array.of(0xff, 0xfe, 0x80)]);
    expect(err.grpcCode).toBe(3);
    expect(err.message).toMatch(/Input "s": element 0 is not valid UTF-8/);
  });
});

describe('ZipMap classifier (skl2onnx logreg_iris)', () => {
  const X = { name: 'X', datatype: 'FP32', shape: [2, 2], data: [5.1, 3.5, 7.0, 3.2] };

  it('serves the outputs under the names the model file declares, and answers requests naming them', async () => {
    const md = (await (await fetch(`${base}/v2/models/iris`)).json()) as { outputs: Array<{ name: string }> };
    expect(md.outputs.map((o) => o.name)).toEqual(['output_label', 'output_probability']);
    const res = await infer('iris', {
      inputs: [X],
      outputs: [{ name: 'output_probability' }, { name: 'output_label' }],
    });
    expect(res.status).toBe(200);
    const outputs = res.body.outputs as Array<{ name: string; shape: number[]; data: number[] }>;
    expect(outputs.map((o) => [o.name, o.shape])).toEqual([
      ['output_probability', [2, 3]],
      ['output_label', [2]],
    ]);
    expect(outputs[1]!.data).toEqual([0, 2]);
  });

  it('classification of the probabilities carries the ZipMap class labels', async () => {
    const plain = await infer('iris', { inputs: [X], outputs: [{ name: 'output_probability' }] });
    const probs = (plain.body.outputs as Array<{ data: number[] }>)[0]!.data;
    const res = await infer('iris', {
      inputs: [X],
      outputs: [{ name: 'output_probability', parameters: { classification: 2 } }],
    });
    expect(res.status).toBe(200);
    const out = (res.body.outputs as Array<{ datatype: string; shape: number[]; data: string[] }>)[0]!;
    expect(out.datatype).toBe('BYTES');
    expect(out.shape).toEqual([2, 2]);
    const expected = [0, 1].flatMap((r) => {
      const row = probs.slice(r * 3, r * 3 + 3);
      const order = [0, 1, 2].sort((a, b) => row[b]! - row[a]! || a - b).slice(0, 2);
      return order.map((i) => `${Math.fround(row[i]!).toFixed(6)}:${i}:${i}`);
    });
    expect(out.data).toEqual(expected);
    expect(out.data[0]!.split(':')[2]).toBe('0');
    expect(out.data[2]!.split(':')[2]).toBe('2');
  });
});
