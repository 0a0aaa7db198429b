// gRPC error statuses: messages have absolute paths redacted (as REST's), and unexpected exceptions are logged.
import { fileURLToPath } from 'node:url';
import * as grpcJs from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ClientError, GrpcClient, RestClient } from '@servekit/client';
import { InferenceError, Model, type ModelMetadata, ModelServer, type Result } from '@servekit/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

const SECRET = '/srv/secret-volume/models/weights.bin';

/** Fails every request with a known error whose message names an absolute path. */
class PathErrorModel extends Model {
  override predict(): Result {
    throw new InferenceError(`cannot mmap ${SECRET}: input/output error`);
  }
}

/** Fails to load with a message naming an absolute path. */
class PathLoadFailModel extends Model {
  override load(): void {
    throw new Error(`cannot read ${SECRET}`);
  }
  override predict(): Result {
    throw new Error('unreachable');
  }
}

/** Its metadata throws a plain Error: an unexpected exception inside a gRPC handler. */
class BadMetadataModel extends Model {
  override metadata(): ModelMetadata {
    throw new Error(`metadata table missing at ${SECRET}`);
  }
  override predict(): Result {
    return { predictions: [] };
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const PROTO = fileURLToPath(new URL('../proto/grpc_predict_v2.proto', import.meta.url));

/** Triton's RepositoryIndex over a plain grpc-js client (servekit's client does not call it). */
async function repositoryIndex(address: string): Promise<{ models: Array<{ name: string; reason: string }> }> {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true });
  const pkg = grpcJs.loadPackageDefinition(def) as unknown as {
    inference: { GRPCInferenceService: new (a: string, c: grpcJs.ChannelCredentials) => grpcJs.Client };
  };
  const client = new pkg.inference.GRPCInferenceService(address, grpcJs.credentials.createInsecure());
  type Rpc = (req: unknown, cb: (err: grpcJs.ServiceError | null, res: unknown) => void) => void;
  const rpc = (client as unknown as Record<string, Rpc>).RepositoryIndex!.bind(client);
  try {
    return await new Promise((resolve, reject) =>
      rpc({}, (err, res) => (err ? reject(err) : resolve(res as { models: Array<{ name: string; reason: string }> }))),
    );
  } finally {
    client.close();
  }
}

const one = { name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.of(1) };

async function failure(p: Promise<unknown>): Promise<ClientError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClientError);
  return err as ClientError;
}

describe('gRPC error messages', () => {
  it('redact absolute paths in a model error, a load failure and the repository index, as REST does', async () => {
    const logs: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(line) });
    const server = new ModelServer({ httpPort: 0, grpcPort: 0, host: '127.0.0.1', defaultMetrics: false, logger });
    cleanups.push(() => server.stop());
    await server.start([new PathErrorModel('patherr'), new PathLoadFailModel('broken'), new BadMetadataModel('badmd')]);
    const grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}` });
    cleanups.push(() => grpc.close());
    const rest = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
    cleanups.push(() => rest.close());

    const infer = await failure(grpc.infer('patherr', { inputs: [one] }));
    expect(infer.message).toBe('cannot mmap …/weights.bin: input/output error');
    const restInfer = await failure(rest.infer('patherr', { inputs: [one] }));
    expect(restInfer.message).toContain('cannot mmap …/weights.bin');

    const notReady = await failure(grpc.infer('broken', { inputs: [one] }));
    expect(notReady.message).toContain('cannot read …/weights.bin');
    const reload = await failure(grpc.load('broken'));
    expect(reload.message).toContain('cannot read …/weights.bin');
    for (const err of [infer, notReady, reload]) expect(err.message).not.toContain('/srv/');

    const index = await repositoryIndex(`127.0.0.1:${server.grpcPort}`);
    const broken = index.models.find((m) => m.name === 'broken');
    expect(broken?.reason).toContain('…/weights.bin');
    expect(JSON.stringify(index)).not.toContain('/srv/');
  });

  it('logs an unexpected exception of a gRPC handler and answers a generic INTERNAL message', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
    const server = new ModelServer({ httpPort: 0, grpcPort: 0, host: '127.0.0.1', defaultMetrics: false, logger });
    cleanups.push(() => server.stop());
    await server.start([new BadMetadataModel('badmd')]);
    const grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}` });
    cleanups.push(() => grpc.close());

    const err = await failure(grpc.modelMetadata('badmd'));
    expect(err.grpcCode).toBe(13);
    expect(err.message).toBe('Internal server error (details are in the server log).');
    const logged = logs.find((l) => l.msg === 'internal error in a gRPC call');
    expect(logged).toBeDefined();
    expect(JSON.stringify(logged)).toContain(`metadata table missing at ${SECRET}`);
    expect(logged?.rpc).toBe('/inference.GRPCInferenceService/ModelMetadata');
  });
});
