// Every datatype round-trips through an echo model over real sockets: REST JSON, REST binary extension
// (each direction), gRPC raw and gRPC typed contents.
import { GrpcClient, RestClient } from '@servekit/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferTensor } from '../src/protocols/infer-types.js';
import type { ModelServer } from '../src/server/model-server.js';
import { EchoModel, plainTensor, sampleTensors, startServer } from './helpers.js';

let server: ModelServer;
let rest: RestClient;
let grpc: GrpcClient;

beforeAll(async () => {
  server = await startServer([new EchoModel('echo')]);
  rest = new RestClient({ baseUrl: `http://127.0.0.1:${server.httpPort}`, retries: 0 });
  grpc = new GrpcClient({ address: `127.0.0.1:${server.grpcPort}`, retries: 0 });
});

afterAll(async () => {
  rest.close();
  grpc.close();
  await server.stop();
});

type Send = (t: InferTensor[]) => Promise<InferTensor[]>;

const transports: Array<[string, boolean, Send]> = [
  ['REST JSON', false, async (inputs) => (await rest.infer('echo', { inputs })).outputs],
  [
    'REST binary in + out',
    true,
    async (inputs) => (await rest.infer('echo', { inputs }, { binary: true, binaryOutputs: true })).outputs,
  ],
  [
    'REST binary in, JSON out',
    false,
    async (inputs) => (await rest.infer('echo', { inputs }, { binary: true })).outputs,
  ],
  [
    'REST JSON in, binary out',
    false,
    async (inputs) => (await rest.infer('echo', { inputs }, { binaryOutputs: true })).outputs,
  ],
  ['gRPC raw', true, async (inputs) => (await grpc.infer('echo', { inputs })).outputs],
  [
    'gRPC typed contents',
    true,
    async (inputs) => (await grpc.infer('echo', { inputs }, { typedContents: true })).outputs,
  ],
];

describe.each(transports)('%s', (_label, exact, send) => {
  const tensors = sampleTensors(exact);

  it.each(tensors.map((t) => [t.datatype, t] as const))('%s round-trips', async (_dt, tensor) => {
    const [out] = await send([tensor]);
    expect(plainTensor(out!)).toEqual(plainTensor(tensor));
  });

  it('non-finite floats (±Infinity, NaN) survive', async () => {
    const nonFinite: InferTensor[] = [
      { name: 'h', datatype: 'FP16', shape: [3], data: Uint16Array.of(0x7c00, 0xfc00, 0x7e00) },
      { name: 'b', datatype: 'BF16', shape: [3], data: Uint16Array.of(0x7f80, 0xff80, 0x7fc0) },
      { name: 'f', datatype: 'FP32', shape: [3], data: Float32Array.of(Infinity, -Infinity, Number.NaN) },
      { name: 'd', datatype: 'FP64', shape: [3], data: Float64Array.of(Infinity, -Infinity, Number.NaN) },
    ];
    const outs = await send(nonFinite);
    expect(outs.map(plainTensor)).toEqual(nonFinite.map(plainTensor));
  });

  it('all datatypes in one request keep order, names and shapes', async () => {
    const outs = await send(tensors);
    expect(outs.map(plainTensor)).toEqual(tensors.map(plainTensor));
  });
});

describe('binary outputs are typed-array views', () => {
  it('FP32 output of a binary response is a Float32Array of the right values', async () => {
    const x: InferTensor = { name: 'x', datatype: 'FP32', shape: [3], data: Float32Array.of(1, 2, 3) };
    const res = await rest.infer('echo', { inputs: [x] }, { binary: true, binaryOutputs: true });
    expect(res.outputs[0]!.data).toBeInstanceOf(Float32Array);
    expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('gRPC raw INT64 output is a BigInt64Array', async () => {
    const x: InferTensor = { name: 'x', datatype: 'INT64', shape: [2], data: BigInt64Array.of(-(2n ** 63n), 7n) };
    const res = await grpc.infer('echo', { inputs: [x] });
    expect(res.outputs[0]!.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(res.outputs[0]!.data as BigInt64Array)).toEqual([-(2n ** 63n), 7n]);
  });
});
