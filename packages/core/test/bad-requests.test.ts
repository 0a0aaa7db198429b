// Every bad input gets the right status and a message naming the problem; the process keeps serving.
import { ClientError, GrpcClient, RestClient } from '@servekit/client';
import { Overloaded } from '../src/errors.js';
import { Model } from '../src/model/model.js';
import type { Result } from '../src/protocols/infer-types.js';
import type { ModelServer } from '../src/server/model-server.js';

/** Always too busy. */
class BusyModel extends Model {
  override predict(): Result {
    throw new Overloaded('Model busy is overloaded: 1024 requests queued.', 2);
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokenLoadModel, EchoModel, LinearModel, startServer, ThrowingModel } from './helpers.js';

const MAX_BODY = 64 * 1024;
let server: ModelServer;
let base: string;
let rest: RestClient;
let grpc: GrpcClient;

beforeAll(async () => {
  server = await startServer(
    [
      new EchoModel('echo'),
      new LinearModel('linear'),
      new ThrowingModel('thrower'),
      new BrokenLoadModel('broken'),
      new BusyModel('busy'),
    ],
    { maxBodySize: MAX_BODY },
  );
  base = `http://127.0.0.1:${server.httpPort}`;
  rest = new RestClient({ baseUrl: base, retries: 0 });
  grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
});

afterAll(async () => {
  rest.close();
  grpc.close();
  await server.stop();
});

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const r = await fetch(`${base}${path}`, { method: 'POST', body, headers });
  const text = await r.text();
  let error: string | undefined;
  try {
    error = (JSON.parse(text) as { error?: string }).error;
  } catch {
    error = undefined;
  }
  return { status: r.status, error, text };
}

const infer = (body: unknown, model = 'echo') => post(`/v2/models/${model}/infer`, JSON.stringify(body));

describe('REST V2 bad inputs', () => {
  it('malformed JSON → 400 "Malformed JSON"', async () => {
    const r = await post('/v2/models/echo/infer', '{"inputs": [', { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.error).toContain('Malformed JSON');
  });

  it('malformed JSON on V1 → 400', async () => {
    const r = await post('/v1/models/linear:predict', '{"instances": [1,', { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.error).toContain('Malformed JSON');
  });

  it('body without inputs → 400', async () => {
    const r = await infer({ outputs: [] });
    expect(r.status).toBe(400);
    expect(r.error).toContain('"inputs"');
  });

  it('shape/data mismatch → 400 naming the tensor and both counts', async () => {
    const r = await infer({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3] }] });
    expect(r.status).toBe(400);
    expect(r.error).toBe('Input "pixels": shape [2,2] needs 4 elements but data has 3.');
  });

  it('a huge shape with little data → 400 (no allocation sized by the shape)', async () => {
    const r = await infer({ inputs: [{ name: 'h', datatype: 'FP64', shape: [2 ** 31, 2 ** 31], data: [1] }] });
    expect(r.status).toBe(400);
    expect(r.error).toBe('Input "h": shape [2147483648,2147483648] has more than 2^53 elements.');
  });

  it('bad shape → 400', async () => {
    const r = await infer({ inputs: [{ name: 'a', datatype: 'FP32', shape: [-2], data: [] }] });
    expect(r.status).toBe(400);
    expect(r.error).toContain('Input "a"');
    expect(r.error).toContain('shape');
  });

  it('unknown datatype → 400 naming it', async () => {
    const r = await infer({ inputs: [{ name: 'a', datatype: 'FP8', shape: [1], data: [1] }] });
    expect(r.status).toBe(400);
    expect(r.error).toBe('Input "a": unknown datatype "FP8".');
  });

  it.each([
    ['UINT8', 256],
    ['INT8', -129],
    ['INT32', 2 ** 31],
    ['UINT64', -1],
    ['INT16', 1.5],
    ['BOOL', 2],
    ['FP32', 'abc'],
  ])('out-of-range / wrong-kind %s value %s → 400 naming the value', async (datatype, value) => {
    const r = await infer({ inputs: [{ name: 'v', datatype, shape: [1], data: [value] }] });
    expect(r.status).toBe(400);
    expect(r.error).toContain('Input "v"');
    expect(r.error).toContain(`is not a valid ${datatype}`);
  });

  it('unknown model → 404', async () => {
    const r = await infer({ inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }] }, 'nope');
    expect(r.status).toBe(404);
    expect(r.error).toBe('Model with name nope does not exist.');
  });

  it('unknown output requested → 400 naming it and the real outputs', async () => {
    const r = await infer(
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }], outputs: [{ name: 'zzz' }] },
      'linear',
    );
    expect(r.status).toBe(400);
    expect(r.error).toContain('"zzz"');
    expect(r.error).toContain('outputs: y');
  });

  it('binary_data_size without the Inference-Header-Content-Length header → 400', async () => {
    const r = await infer({
      inputs: [{ name: 'a', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }],
    });
    expect(r.status).toBe(400);
    expect(r.error).toContain('missing Inference-Header-Content-Length');
  });

  it('truncated binary body (a tensor runs past the end) → 400', async () => {
    const head = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'a', datatype: 'FP32', shape: [4], parameters: { binary_data_size: 16 } }] }),
    );
    const r = await post('/v2/models/echo/infer', Buffer.concat([head, Buffer.alloc(8)]), {
      'inference-header-content-length': String(head.byteLength),
    });
    expect(r.status).toBe(400);
    expect(r.error).toContain('runs past the end of the body');
  });

  it('header length larger than the body → 400 "truncated body"', async () => {
    const r = await post('/v2/models/echo/infer', Buffer.from('{"inputs":[]}'), {
      'inference-header-content-length': '500',
    });
    expect(r.status).toBe(400);
    expect(r.error).toContain('truncated body');
  });

  it('binary size not matching the shape → 400 naming the tensor', async () => {
    const head = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'a', datatype: 'FP32', shape: [4], parameters: { binary_data_size: 12 } }] }),
    );
    const r = await post('/v2/models/echo/infer', Buffer.concat([head, Buffer.alloc(12)]), {
      'inference-header-content-length': String(head.byteLength),
    });
    expect(r.status).toBe(400);
    expect(r.error).toBe('Input "a": FP32 shape [4] needs 16 bytes of raw data but got 12.');
  });

  it('binary bytes not claimed by any input → 400', async () => {
    const head = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'a', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } }] }),
    );
    const r = await post('/v2/models/echo/infer', Buffer.concat([head, Buffer.alloc(9)]), {
      'inference-header-content-length': String(head.byteLength),
    });
    expect(r.status).toBe(400);
    expect(r.error).toContain('5 bytes not claimed');
  });

  it('a non-numeric Inference-Header-Content-Length → 400', async () => {
    const r = await post('/v2/models/echo/infer', Buffer.from('{}'), { 'inference-header-content-length': 'abc' });
    expect(r.status).toBe(400);
    expect(r.error).toContain('Inference-Header-Content-Length');
  });

  it('oversized body → 413 saying so', async () => {
    const big = JSON.stringify({
      inputs: [{ name: 'a', datatype: 'FP64', shape: [20000], data: new Array(20000).fill(1.5) }],
    });
    expect(big.length).toBeGreaterThan(MAX_BODY);
    const r = await post('/v2/models/echo/infer', big, { 'content-type': 'application/json' });
    expect(r.status).toBe(413);
    expect(r.error).toContain('larger than the limit');
  });

  it('unknown route → 404 naming it', async () => {
    const r = await fetch(`${base}/v3/whatever`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: string }).error).toContain('/v3/whatever');
  });
});

describe('model failures', () => {
  it('a model that throws → 500 naming the model (its message stays in the log), and the server keeps serving', async () => {
    const r = await infer({ inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }] }, 'thrower');
    expect(r.status).toBe(500);
    expect(r.error).toBe('Model thrower failed to process the request (details are in the server log).');
    const v1 = await post('/v1/models/thrower:predict', '{"instances":[1]}');
    expect(v1.status).toBe(500);
    const ok = await rest.infer('linear', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: Float32Array.of(1) }],
    });
    expect(Array.from(ok.outputs[0]!.data as Float32Array)).toEqual([3]);
  });

  it('a model that failed to load → 503 with the reason while the others serve', async () => {
    const r = await infer({ inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }] }, 'broken');
    expect(r.status).toBe(503);
    expect(r.error).toContain('disk on fire');
    expect(await rest.modelReady('broken')).toBe(false);
    expect(await rest.modelReady('echo')).toBe(true);
    expect(await rest.serverReady()).toBe(true);
  });

  it('an overloaded model → 503 with Retry-After', async () => {
    const r = await fetch(`${base}/v2/models/busy/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }] }),
    });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('2');
    expect(((await r.json()) as { error: string }).error).toContain('overloaded');
  });

  it('the client surfaces status and the server message', async () => {
    const e = await rest
      .infer('echo', { inputs: [{ name: 'q', datatype: 'FP32', shape: [3], data: Float32Array.of(1, 2) }] })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ClientError);
    expect((e as ClientError).status).toBe(400);
    expect((e as ClientError).message).toBe('Input "q": shape [3] needs 3 elements but data has 2.');
  });
});

describe('gRPC status codes', () => {
  const code = async (p: Promise<unknown>) => {
    const e = (await p.catch((err: unknown) => err)) as ClientError;
    expect(e).toBeInstanceOf(ClientError);
    return { code: e.grpcCode, message: e.message };
  };
  const one = { name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.of(1) };

  it('INVALID_ARGUMENT for a shape/contents mismatch', async () => {
    const r = await code(grpc.infer('echo', { inputs: [{ ...one, shape: [3] }] }));
    expect(r.code).toBe(3);
    expect(r.message).toContain('Input "x"');
  });

  it('INVALID_ARGUMENT for typed contents not matching the shape', async () => {
    const r = await code(grpc.infer('echo', { inputs: [{ ...one, shape: [2] }] }, { typedContents: true }));
    expect(r.code).toBe(3);
    expect(r.message).toBe('Input "x": shape [2] needs 2 elements but contents has 1.');
  });

  it('NOT_FOUND for an unknown model', async () => {
    const r = await code(grpc.infer('nope', { inputs: [one] }));
    expect(r).toEqual({ code: 5, message: 'Model with name nope does not exist.' });
    expect((await code(grpc.modelReady('nope'))).code).toBe(5);
  });

  it('UNAVAILABLE for a model that failed to load', async () => {
    const r = await code(grpc.infer('broken', { inputs: [one] }));
    expect(r.code).toBe(14);
    expect(r.message).toContain('disk on fire');
  });

  it('INTERNAL naming the model (not its internal message) for a model that throws', async () => {
    const r = await code(grpc.infer('thrower', { inputs: [one] }));
    expect(r).toEqual({
      code: 13,
      message: 'Model thrower failed to process the request (details are in the server log).',
    });
    expect(await grpc.serverLive()).toBe(true);
  });
});
