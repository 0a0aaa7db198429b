// The gRPC service is registered without parsing grpc_predict_v2.proto: a server started in a fresh process has not
// loaded @grpc/proto-loader (nor parsed the proto) when it is ready; the first RPC that needs protobufjs messages
// (ServerLive here, sent as raw bytes by a client that loads no proto) loads it and is answered as before. The fixed
// method table is checked against the proto itself.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INFERENCE_METHODS, lazyServiceDefinition } from '../src/protocols/grpc-lazy-service.js';
import { inferenceService } from '../src/protocols/grpc-proto.js';

const exec = promisify(execFile);
const CORE = pathToFileURL(join(import.meta.dirname, '../dist/index.js')).href;
const GRPC = pathToFileURL(join(import.meta.dirname, '../../../node_modules/@grpc/grpc-js/build/src/index.js')).href;

// Prints one JSON line: which CommonJS modules were loaded once ready, and after one ServerLive call.
const PROBE = `
import { createRequire } from 'node:module';
const [core, grpcUrl] = process.argv.slice(2);
const cache = createRequire(import.meta.url).cache;
const loaded = () => Object.keys(cache).filter((f) => f.includes('proto-loader') || f.includes('protobufjs')).length;
const { ModelServer } = await import(core);
const grpc = (await import(grpcUrl)).default;
const server = new ModelServer({ httpPort: 0, grpcPort: 0, host: '127.0.0.1', logLevel: 'silent', defaultMetrics: false });
const { grpcPort } = await server.start([]);
const atReady = loaded();
const identity = (b) => b;
const Client = grpc.makeGenericClientConstructor({
  ServerLive: {
    path: '/inference.GRPCInferenceService/ServerLive', requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
}, 'raw');
const client = new Client('127.0.0.1:' + grpcPort, grpc.credentials.createInsecure());
const answer = await new Promise((resolve, reject) =>
  client.ServerLive(Buffer.alloc(0), (err, bytes) => (err ? reject(err) : resolve(bytes.toString('hex')))));
client.close();
await server.stop();
process.stdout.write(JSON.stringify({ atReady, afterCall: loaded(), answer }) + '\\n');
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'servekit-grpc-lazy-'));
  await writeFile(join(dir, 'probe.mjs'), PROBE);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the gRPC service definition loads proto-loader on first use', () => {
  it('not at start; the first ServerLive loads it and is answered live=true', async () => {
    const { stdout } = await exec(process.execPath, [join(dir, 'probe.mjs'), CORE, GRPC], { timeout: 60_000 });
    const result = JSON.parse(stdout) as { atReady: number; afterCall: number; answer: string };
    expect(result.atReady).toBe(0);
    expect(result.afterCall).toBeGreaterThan(0);
    // ServerLiveResponse { live: true }: field 1, varint 1.
    expect(result.answer).toBe('0801');
  });

  it('the fixed method table is the proto service: names, paths, unary, originalName', () => {
    const proto = inferenceService().service;
    const fixed = lazyServiceDefinition(() => proto);
    expect(Object.keys(fixed)).toEqual(Object.keys(proto));
    expect(INFERENCE_METHODS.map(([name]) => name)).toEqual(Object.keys(proto));
    for (const [name, method] of Object.entries(proto)) {
      const { path, requestStream, responseStream, originalName } = fixed[name]!;
      expect({ path, requestStream, responseStream, originalName }).toEqual({
        path: method.path,
        requestStream: method.requestStream,
        responseStream: method.responseStream,
        originalName: method.originalName,
      });
    }
  });

  it('its serializers write and read the same bytes as proto-loader', () => {
    const proto = inferenceService().service;
    let loads = 0;
    const fixed = lazyServiceDefinition(() => {
      loads++;
      return proto;
    });
    expect(loads).toBe(0);
    const metadata = { name: 'servekit', version: '1', extensions: ['a', 'b'] };
    const bytes = fixed.ServerMetadata!.responseSerialize(metadata);
    expect(bytes.equals(proto.ServerMetadata!.responseSerialize(metadata))).toBe(true);
    expect(fixed.ServerMetadata!.responseDeserialize(bytes)).toEqual(proto.ServerMetadata!.responseDeserialize(bytes));
    const request = fixed.ModelReady!.requestSerialize({ name: 'm', version: '2' });
    expect(fixed.ModelReady!.requestDeserialize(request)).toEqual({ name: 'm', version: '2' });
    expect(loads).toBe(1);
  });
});
