// Every RPC of inference.GRPCInferenceService over a real socket, with a client built straight from
// packages/core/proto/grpc_predict_v2.proto by @grpc/proto-loader (independent of core's loader) and with GrpcClient.
import { fileURLToPath } from 'node:url';
import * as grpcJs from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type ClientError, GrpcClient } from '@servekit/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelServer } from '../src/server/model-server.js';
import { BrokenLoadModel, EchoModel, LinearModel, startServer } from './helpers.js';

const PROTO = fileURLToPath(new URL('../proto/grpc_predict_v2.proto', import.meta.url));

type Rpc = (req: unknown, md: grpcJs.Metadata, cb: (err: grpcJs.ServiceError | null, res: unknown) => void) => void;

let server: ModelServer;
let raw: grpcJs.Client;
let client: GrpcClient;
const echo = new EchoModel('echo');

function call<T>(method: string, req: unknown, md = new grpcJs.Metadata()): Promise<T> {
  const fn = (raw as unknown as Record<string, Rpc>)[method]!.bind(raw);
  return new Promise((resolve, reject) => fn(req, md, (err, res) => (err ? reject(err) : resolve(res as T))));
}

async function callError(method: string, req: unknown): Promise<grpcJs.ServiceError> {
  return call(method, req).then(
    () => {
      throw new Error(`${method} should have failed`);
    },
    (err: grpcJs.ServiceError) => err,
  );
}

beforeAll(async () => {
  server = await startServer([echo, new LinearModel('linear'), new BrokenLoadModel('broken')], {}, (s) => {
    s.repository.register(new LinearModel('versioned', 10, 0), '1');
    s.repository.register(new LinearModel('versioned', 100, 0), '2');
    s.repository.factory = (name) => (name === 'broken' ? new BrokenLoadModel(name) : new LinearModel(name, 3, 0));
  });
  const def = protoLoader.loadSync(PROTO, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpcJs.loadPackageDefinition(def) as unknown as {
    inference: { GRPCInferenceService: grpcJs.ServiceClientConstructor };
  };
  raw = new pkg.inference.GRPCInferenceService(`127.0.0.1:${server.grpcPort}`, grpcJs.credentials.createInsecure());
  client = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
});

afterAll(async () => {
  raw.close();
  client.close();
  await server.stop();
});

describe('raw proto-loader client', () => {
  it('ServerLive / ServerReady', async () => {
    expect(await call('ServerLive', {})).toEqual({ live: true });
    expect(await call('ServerReady', {})).toEqual({ ready: true });
  });

  it('ServerMetadata', async () => {
    const md = await call<{ name: string; extensions: string[] }>('ServerMetadata', {});
    expect(md.name).toBe('servekit');
    expect(md.extensions).toContain('binary_tensor_data');
  });

  it('ModelReady with and without version; false for a failed model or an unknown version; NOT_FOUND for unknown', async () => {
    expect(await call('ModelReady', { name: 'linear' })).toEqual({ ready: true });
    expect(await call('ModelReady', { name: 'versioned', version: '1' })).toEqual({ ready: true });
    expect(await call('ModelReady', { name: 'broken' })).toEqual({ ready: false });
    expect((await callError('ModelReady', { name: 'nope' })).code).toBe(grpcJs.status.NOT_FOUND);
    // Triton's clients ask for versions that may not exist and expect ready=false, not an error.
    expect(await call('ModelReady', { name: 'versioned', version: '7' })).toEqual({ ready: false });
  });

  it('ModelMetadata with and without version (int64 shapes, -1 for dynamic dims)', async () => {
    const md = await call<Record<string, unknown>>('ModelMetadata', { name: 'linear' });
    expect(md).toMatchObject({
      name: 'linear',
      platform: 'custom',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1'] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: ['-1'] }],
    });
    const v = await call<{ versions: string[] }>('ModelMetadata', { name: 'versioned', version: '2' });
    expect(v.versions).toEqual(['1', '2']);
    expect((await callError('ModelMetadata', { name: 'broken' })).code).toBe(grpcJs.status.UNAVAILABLE);
  });

  it('ModelInfer with raw_input_contents answers with raw_output_contents', async () => {
    const res = await call<{
      model_name: string;
      id: string;
      outputs: Array<{ name: string; datatype: string; shape: string[]; contents: unknown }>;
      raw_output_contents: Buffer[];
    }>('ModelInfer', {
      model_name: 'linear',
      id: 'g-1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2] }],
      raw_input_contents: [Buffer.from(Float32Array.of(0, 1, 2, 3).buffer)],
    });
    expect(res.model_name).toBe('linear');
    expect(res.id).toBe('g-1');
    expect(res.outputs).toHaveLength(1);
    expect(res.outputs[0]).toMatchObject({ name: 'y', datatype: 'FP32', shape: ['2', '2'] });
    expect(res.outputs[0]!.contents).toBeNull();
    const bytes = res.raw_output_contents[0]!;
    expect(
      Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))),
    ).toEqual([1, 3, 5, 7]);
  });

  it('ModelInfer with typed contents answers in raw_output_contents, as Triton does (INT64, BOOL and BYTES too)', async () => {
    const res = await call<{
      outputs: Array<{ name: string; datatype: string; shape: string[]; contents: unknown }>;
      raw_output_contents: Buffer[];
    }>('ModelInfer', {
      model_name: 'echo',
      inputs: [
        { name: 'f', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1.5, -2] } },
        { name: 'i', datatype: 'INT64', shape: [2], contents: { int64_contents: ['-9223372036854775808', '5'] } },
        { name: 'b', datatype: 'BOOL', shape: [2], contents: { bool_contents: [true, false] } },
        { name: 's', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('hi')] } },
      ],
    });
    expect(res.outputs.map((o) => [o.name, o.datatype, o.shape, o.contents])).toEqual([
      ['f', 'FP32', ['2'], null],
      ['i', 'INT64', ['2'], null],
      ['b', 'BOOL', ['2'], null],
      ['s', 'BYTES', ['1'], null],
    ]);
    const [f, i, b, s] = res.raw_output_contents;
    expect([f!.readFloatLE(0), f!.readFloatLE(4)]).toEqual([1.5, -2]);
    expect([i!.readBigInt64LE(0), i!.readBigInt64LE(8)]).toEqual([-9223372036854775808n, 5n]);
    expect([...b!]).toEqual([1, 0]);
    expect(s).toEqual(Buffer.from([2, 0, 0, 0, 0x68, 0x69])); // 4-byte little-endian length, then the bytes
  });

  it('ModelInfer routes to a version', async () => {
    const res = await call<{ model_version: string; raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'versioned',
      model_version: '1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
      raw_input_contents: [Buffer.from(Float32Array.of(2).buffer)],
    });
    expect(res.model_version).toBe('1');
    expect(res.raw_output_contents[0]!.readFloatLE(0)).toBe(20);
  });

  it('ModelInfer errors: INVALID_ARGUMENT (raw size, raw/input count, unknown datatype, missing input), NOT_FOUND', async () => {
    const bad = [
      {
        model_name: 'echo',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }],
        raw_input_contents: [Buffer.alloc(4)],
      },
      {
        model_name: 'echo',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
        raw_input_contents: [Buffer.alloc(4), Buffer.alloc(4)],
      },
      {
        model_name: 'echo',
        inputs: [{ name: 'x', datatype: 'COMPLEX', shape: [1] }],
        raw_input_contents: [Buffer.alloc(4)],
      },
      // No inputs is a valid request (input-less models exist); a model that needs one says so.
      { model_name: 'linear', inputs: [] },
    ];
    for (const b of bad) {
      const e = await callError('ModelInfer', b);
      expect(e.code).toBe(grpcJs.status.INVALID_ARGUMENT);
      expect(e.details).not.toBe('');
    }
    const e = await callError('ModelInfer', {
      model_name: 'nope',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
      raw_input_contents: [Buffer.alloc(4)],
    });
    expect(e.code).toBe(grpcJs.status.NOT_FOUND);
  });

  it('a huge BYTES shape with a tiny raw buffer is INVALID_ARGUMENT (not INTERNAL)', async () => {
    const e = await callError('ModelInfer', {
      model_name: 'echo',
      inputs: [{ name: 's', datatype: 'BYTES', shape: [2 ** 31, 2 ** 31] }],
      raw_input_contents: [Buffer.from([1, 0, 0, 0, 65])],
    });
    expect(e.code).toBe(grpcJs.status.INVALID_ARGUMENT);
    expect(e.details).toContain('Input "s"');
  });

  it('FP16 in typed contents is INVALID_ARGUMENT (the proto has no field for it)', async () => {
    const e = await callError('ModelInfer', {
      model_name: 'echo',
      inputs: [{ name: 'h', datatype: 'FP16', shape: [1], contents: { uint_contents: [15360] } }],
    });
    expect(e.code).toBe(grpcJs.status.INVALID_ARGUMENT);
    expect(e.details).toBe('Input "h": FP16 must be sent in raw_input_contents.');
  });

  it('metadata reaches the model context (x-request-id becomes the request id)', async () => {
    const md = new grpcJs.Metadata();
    md.set('x-request-id', 'grpc-req-9');
    md.set('authorization', 'Bearer t0k');
    await call(
      'ModelInfer',
      {
        model_name: 'echo',
        inputs: [{ name: 'x', datatype: 'INT8', shape: [1] }],
        raw_input_contents: [Buffer.from([7])],
      },
      md,
    );
    expect(echo.lastCtx?.protocol).toBe('grpc-v2');
    expect(echo.lastCtx?.requestId).toBe('grpc-req-9');
    expect(echo.lastCtx?.headers.authorization).toBe('Bearer t0k');
  });

  it('RepositoryModelLoad / RepositoryModelUnload', async () => {
    expect(await call('RepositoryModelLoad', { model_name: 'grpc-fresh' })).toEqual({
      model_name: 'grpc-fresh',
      isLoaded: true,
    });
    expect(await call('ModelReady', { name: 'grpc-fresh' })).toEqual({ ready: true });
    expect(await call('RepositoryModelUnload', { model_name: 'grpc-fresh' })).toEqual({
      model_name: 'grpc-fresh',
      isUnloaded: true,
    });
    expect(await call('ModelReady', { name: 'grpc-fresh' })).toEqual({ ready: false });
    const failed = await callError('RepositoryModelLoad', { model_name: 'broken' });
    expect(failed.code).toBe(grpcJs.status.UNAVAILABLE);
    expect(failed.details).toContain('disk on fire');
    expect((await callError('RepositoryModelUnload', { model_name: 'ghost' })).code).toBe(grpcJs.status.NOT_FOUND);
  });
});

describe('GrpcClient', () => {
  it('covers the V2 surface', async () => {
    expect(await client.serverLive()).toBe(true);
    expect(await client.serverReady()).toBe(true);
    expect((await client.serverMetadata()).extensions).toContain('model_repository');
    expect(await client.modelReady('linear')).toBe(true);
    expect(await client.modelReady('versioned', '2')).toBe(true);
    expect(await client.modelReady('broken')).toBe(false);
    const md = await client.modelMetadata('linear');
    expect(md.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1] }]);
    expect((await client.modelMetadata('versioned', '1')).versions).toEqual(['1', '2']);
    const res = await client.infer(
      'versioned',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: Float32Array.of(3) }] },
      { version: '2' },
    );
    expect(res.model_version).toBe('2');
    expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([300]);
    await client.load('client-fresh');
    expect(await client.modelReady('client-fresh')).toBe(true);
    await client.unload('client-fresh');
    expect(await client.modelReady('client-fresh')).toBe(false);
  });

  it('forwards per-call metadata and request parameters', async () => {
    const res = await client.infer(
      'echo',
      {
        id: 'p-1',
        parameters: { priority: 3, tag: 'a' },
        inputs: [{ name: 'x', datatype: 'UINT8', shape: [1], data: Uint8Array.of(9) }],
      },
      { metadata: { 'x-request-id': 'client-md-1', traceparent: '00-abc' } },
    );
    expect(res.id).toBe('p-1');
    expect(echo.lastCtx?.requestId).toBe('client-md-1');
    expect(echo.lastCtx?.headers.traceparent).toBe('00-abc');
  });

  it('requested outputs select outputs', async () => {
    const a = { name: 'a', datatype: 'INT32' as const, shape: [1], data: Int32Array.of(1) };
    const b = { name: 'b', datatype: 'INT32' as const, shape: [1], data: Int32Array.of(2) };
    const res = await client.infer('echo', { inputs: [a, b], outputs: [{ name: 'b' }] });
    expect(res.outputs.map((o) => o.name)).toEqual(['b']);
    const e = (await client
      .infer('echo', { inputs: [a], outputs: [{ name: 'zz' }] })
      .catch((err: unknown) => err)) as ClientError;
    expect(e.grpcCode).toBe(grpcJs.status.INVALID_ARGUMENT);
    expect(e.message).toContain('"zz"');
  });
});
