// servekit driven by a Triton-protocol gRPC client: the client is built from test/fixtures/triton_grpc_service.proto,
// which holds Triton's message layouts (repository_name = 1 / model_name = 2 on load/unload, RepositoryIndex,
// ModelStatistics, ModelConfig), as tritonclient.grpc sends them.
import { fileURLToPath } from 'node:url';
import * as grpcJs from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelNotFound } from '../src/errors.js';
import { decodeRepositoryModelRequest } from '../src/protocols/repository-request.js';
import type { ModelServer } from '../src/server/model-server.js';
import { deserializeBytes } from '../src/tensor/binary-codec.js';
import { ClassifierModel, LinearModel, startServer } from './helpers.js';

const PROTO = fileURLToPath(new URL('./fixtures/triton_grpc_service.proto', import.meta.url));

type Rpc = (req: unknown, md: grpcJs.Metadata, cb: (err: grpcJs.ServiceError | null, res: unknown) => void) => void;

interface Duration {
  count: string;
  ns: string;
}
interface Stats {
  name: string;
  version: string;
  last_inference: string;
  inference_count: string;
  execution_count: string;
  inference_stats: Record<
    'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output',
    Duration
  >;
  batch_stats: Array<{ batch_size: string; compute_infer: Duration }>;
}
interface InferResponse {
  outputs: Array<{ name: string; datatype: string; shape: string[]; contents?: { bytes_contents?: Buffer[] } }>;
  raw_output_contents: Buffer[];
}

let server: ModelServer;
let triton: grpcJs.Client;

function call<T>(method: string, req: unknown): Promise<T> {
  const fn = (triton as unknown as Record<string, Rpc>)[method]!.bind(triton);
  return new Promise((resolve, reject) =>
    fn(req, new grpcJs.Metadata(), (err, res) => (err ? reject(err) : resolve(res as T))),
  );
}

async function callError(method: string, req: unknown): Promise<grpcJs.ServiceError> {
  return call(method, req).then(
    () => {
      throw new Error(`${method} should have failed`);
    },
    (err: grpcJs.ServiceError) => err,
  );
}

/** FP32 values as Triton's client sends them: raw little-endian bytes. */
function rawFp32(values: number[]): Buffer {
  return Buffer.from(Float32Array.from(values).buffer);
}

/** The strings of a BYTES output, raw (4-byte length prefixes) or typed. */
function bytesOutput(res: InferResponse, i: number): string[] {
  const out = res.outputs[i]!;
  const count = out.shape.map(Number).reduce((a, b) => a * b, 1);
  if (res.raw_output_contents.length > 0) {
    return deserializeBytes(out.name, res.raw_output_contents[i]!, count).map((b) =>
      typeof b === 'string' ? b : Buffer.from(b).toString('utf8'),
    );
  }
  return (out.contents?.bytes_contents ?? []).map((b) => b.toString('utf8'));
}

beforeAll(async () => {
  server = await startServer(
    [new LinearModel('linear'), new ClassifierModel('classifier'), new LinearModel('batched')],
    {
      batching: (name) =>
        name === 'batched' ? { maxBatchSize: 8, maxLatencyMs: 2, preferredBatchSizes: [4] } : undefined,
    },
    (s) => {
      s.repository.register(new LinearModel('versioned', 10, 0), '1');
      s.repository.register(new LinearModel('versioned', 100, 0), '2');
      s.repository.factory = (name) => {
        if (name !== 'simple') throw new ModelNotFound(name);
        return new LinearModel('simple', 3, 0);
      };
    },
  );
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
  triton = new pkg.inference.GRPCInferenceService(`127.0.0.1:${server.grpcPort}`, grpcJs.credentials.createInsecure());
});

afterAll(async () => {
  triton.close();
  await server.stop();
});

describe('Triton gRPC client', () => {
  it('advertises the Triton extensions servekit implements', async () => {
    const md = await call<{ extensions: string[] }>('ServerMetadata', {});
    expect(md.extensions).toEqual(
      expect.arrayContaining(['model_repository', 'statistics', 'model_configuration', 'classification']),
    );
  });

  it('loads, indexes and unloads a model with Triton layout requests (model_name is field 2)', async () => {
    await call('RepositoryModelLoad', { model_name: 'simple' });
    expect(await call('ModelReady', { name: 'simple' })).toEqual({ ready: true });
    const index = await call<{ models: Array<Record<string, string>> }>('RepositoryIndex', {});
    expect(index.models).toContainEqual({ name: 'simple', version: '', state: 'READY', reason: '' });
    expect(index.models).toContainEqual({ name: 'versioned', version: '2', state: 'READY', reason: '' });
    await call('RepositoryModelUnload', { repository_name: '', model_name: 'simple' });
    const after = await call<{ models: Array<{ name: string }> }>('RepositoryIndex', { ready: true });
    expect(after.models.map((m) => m.name)).not.toContain('simple');
    // repository_name (field 1) next to model_name: still the model named in field 2.
    await call('RepositoryModelLoad', { repository_name: 'models', model_name: 'simple' });
    expect(await call('ModelReady', { name: 'simple' })).toEqual({ ready: true });
    await call('RepositoryModelUnload', { model_name: 'simple' });
  });

  it('names the missing model (never "undefined") and refuses load parameters it cannot honour', async () => {
    const missing = await callError('RepositoryModelLoad', { model_name: 'no-such-model' });
    expect(missing.code).toBe(grpcJs.status.NOT_FOUND);
    expect(missing.details).toContain('no-such-model');
    const empty = await callError('RepositoryModelLoad', {});
    expect(empty.code).toBe(grpcJs.status.INVALID_ARGUMENT);
    expect(empty.details).not.toContain('undefined');
    const withConfig = await callError('RepositoryModelLoad', {
      model_name: 'simple',
      parameters: { config: { string_param: '{"max_batch_size": 4}' } },
    });
    expect(withConfig.code).toBe(grpcJs.status.INVALID_ARGUMENT);
    expect(withConfig.details).toContain('config');
    const unload = await callError('RepositoryModelUnload', { model_name: 'ghost' });
    expect(unload.code).toBe(grpcJs.status.NOT_FOUND);
    expect(unload.details).toContain('ghost');
  });

  it('ModelReady answers false for an unknown version of a known model', async () => {
    expect(await call('ModelReady', { name: 'versioned', version: '9' })).toEqual({ ready: false });
    expect(await call('ModelReady', { name: 'versioned', version: '1' })).toEqual({ ready: true });
  });

  it('infers with raw_input_contents and reads raw (or typed) outputs', async () => {
    const res = await call<InferResponse & { outputs: Array<{ contents?: { fp32_contents?: number[] } }> }>(
      'ModelInfer',
      {
        model_name: 'linear',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [3] }],
        raw_input_contents: [rawFp32([1, 2, 3])],
      },
    );
    expect(res.outputs[0]).toMatchObject({ name: 'y', datatype: 'FP32', shape: ['3'] });
    const y =
      res.raw_output_contents.length > 0
        ? Array.from(new Float32Array(new Uint8Array(res.raw_output_contents[0]!).buffer))
        : res.outputs[0]!.contents!.fp32_contents!;
    expect(y).toEqual([3, 5, 7]);
  });

  it('classification: top-k "score:index:label" strings per row, highest first', async () => {
    const res = await call<InferResponse>('ModelInfer', {
      model_name: 'classifier',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }],
      raw_input_contents: [rawFp32([0, 1])],
      outputs: [{ name: 'probs', parameters: { classification: { int64_param: '2' } } }],
    });
    expect(res.outputs[0]).toMatchObject({ name: 'probs', datatype: 'BYTES', shape: ['2', '2'] });
    expect(bytesOutput(res, 0)).toEqual([
      '0.700000:2:virginica',
      '0.200000:1:versicolor',
      '0.700000:1:versicolor',
      '0.200000:0:setosa',
    ]);
  });

  it('ModelConfig: Triton datatypes, dims and the dynamic batching servekit runs', async () => {
    const linear = await call<{ config: Record<string, unknown> }>('ModelConfig', { name: 'linear' });
    expect(linear.config).toMatchObject({
      name: 'linear',
      platform: 'custom',
      backend: 'custom',
      max_batch_size: 0,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: ['-1'] }],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: ['-1'] }],
      dynamic_batching: null,
    });
    const batched = await call<{ config: Record<string, unknown> }>('ModelConfig', { name: 'batched' });
    expect(batched.config).toMatchObject({
      max_batch_size: 8,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [] }],
      dynamic_batching: {
        preferred_batch_size: [4],
        max_queue_delay_microseconds: '2000',
        preserve_ordering: true,
        default_queue_policy: { timeout_action: 'REJECT', max_queue_size: 1024 },
      },
    });
    expect((await callError('ModelConfig', { name: 'nope' })).code).toBe(grpcJs.status.NOT_FOUND);
  });

  it('ModelStatistics counts successes, failures, executions and batch sizes per model version', async () => {
    const infer = (model: string, values: number[], version = '') =>
      call('ModelInfer', {
        model_name: model,
        model_version: version,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [values.length] }],
        raw_input_contents: [rawFp32(values)],
      });
    for (let i = 0; i < 3; i++) await infer('batched', [1, 2]);
    await infer('versioned', [1], '1');
    // A request the model refuses (no "x") counts as a failure.
    await callError('ModelInfer', {
      model_name: 'batched',
      inputs: [{ name: 'z', datatype: 'FP32', shape: [1] }],
      raw_input_contents: [rawFp32([1])],
    });
    const { model_stats } = await call<{ model_stats: Stats[] }>('ModelStatistics', { name: 'batched' });
    expect(model_stats).toHaveLength(1);
    const s = model_stats[0]!;
    expect(s).toMatchObject({ name: 'batched', version: '', inference_count: '6', execution_count: '3' });
    expect(s.inference_stats.success.count).toBe('3');
    expect(s.inference_stats.fail.count).toBe('1');
    expect(s.inference_stats.queue.count).toBe('4');
    expect(s.inference_stats.compute_input.count).toBe('3');
    expect(s.inference_stats.compute_infer.count).toBe('3');
    expect(s.inference_stats.compute_output.count).toBe('3');
    expect(Number(s.inference_stats.success.ns)).toBeGreaterThan(0);
    expect(Number(s.last_inference)).toBeGreaterThan(0);
    expect(s.batch_stats.map((b) => [b.batch_size, b.compute_infer.count])).toEqual([['2', '3']]);

    const versions = await call<{ model_stats: Stats[] }>('ModelStatistics', { name: 'versioned' });
    expect(versions.model_stats.map((m) => [m.version, m.inference_count])).toEqual([
      ['1', '1'],
      ['2', '0'],
    ]);
    const all = await call<{ model_stats: Stats[] }>('ModelStatistics', {});
    expect(all.model_stats.map((m) => m.name)).toEqual(expect.arrayContaining(['linear', 'batched', 'versioned']));
    expect((await callError('ModelStatistics', { name: 'nope' })).code).toBe(grpcJs.status.NOT_FOUND);
    expect((await callError('ModelStatistics', { name: 'versioned', version: '7' })).code).toBe(
      grpcJs.status.NOT_FOUND,
    );
  });
});

describe('decodeRepositoryModelRequest (both load/unload layouts)', () => {
  const field = (n: number, bytes: Uint8Array | string): Buffer => {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
    return Buffer.concat([Buffer.of((n << 3) | 2, b.length), b]);
  };

  it("reads KServe's layout (model_name = 1) and Triton's (repository_name = 1, model_name = 2, parameters = 3)", () => {
    expect(decodeRepositoryModelRequest(field(1, 'simple'))).toMatchObject({
      model_name: 'simple',
      repository_name: '',
    });
    const param = Buffer.concat([field(1, 'config'), field(2, field(3, '{}'))]);
    const flag = Buffer.concat([field(1, 'poll'), field(2, Buffer.of(0x08, 0x01))]);
    const triton = decodeRepositoryModelRequest(
      Buffer.concat([field(1, 'models'), field(2, 'simple'), field(3, param), field(3, flag)]),
    );
    expect(triton).toMatchObject({ model_name: 'simple', repository_name: 'models' });
    expect([...triton.parameters]).toEqual([
      ['config', '{}'],
      ['poll', true],
    ]);
    expect(decodeRepositoryModelRequest(new Uint8Array(0))).toMatchObject({ model_name: '' });
  });

  it('refuses truncated bytes and names that are not UTF-8', () => {
    expect(() => decodeRepositoryModelRequest(Buffer.of(0x12, 0x10, 0x61))).toThrow(/Malformed repository request/);
    expect(() => decodeRepositoryModelRequest(field(2, Uint8Array.of(0xff)))).toThrow(/not UTF-8/);
  });
});
