// Hostile ModelInfer messages built byte by byte and sent through a grpc-js client with identity serializers
// against a real ModelServer on 127.0.0.1: budgets, malformed protobuf, range checks, bounded error trailers.
import * as grpcJs from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelServer } from '../src/server/model-server.js';
import { EchoModel, LinearModel, startServer } from './helpers.js';

const SERVICE = '/inference.GRPCInferenceService/';
const MiB = 1024 * 1024;

let server: ModelServer;
let client: grpcJs.Client;

beforeAll(async () => {
  server = await startServer([new EchoModel('echo'), new LinearModel('linear')], {
    limits: { maxDecodedBytes: 32 * MiB },
  });
  client = new grpcJs.Client(`127.0.0.1:${server.grpcPort}`, grpcJs.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * MiB,
    'grpc.max_receive_message_length': 64 * MiB,
  });
});

afterAll(async () => {
  client.close();
  await server.stop();
});

// --- a minimal protobuf writer for hand-built messages ---------------------------------------------------------

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const bytes = (...parts: Array<Buffer | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
const tag = (field: number, wire: number): number[] => varint(field * 8 + wire);
const len = (field: number, payload: Buffer | string): Buffer => {
  const b = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return bytes(tag(field, 2), varint(b.length), b);
};
const vint = (field: number, v: number | bigint): Buffer => bytes(tag(field, 0), varint(v));
const packed = (field: number, values: Array<number | bigint>): Buffer =>
  len(field, Buffer.from(values.flatMap((v) => varint(v))));

interface InputSpec {
  name: string;
  datatype: string;
  shape: Array<number | bigint>;
  contents?: Buffer;
}
const input = (t: InputSpec): Buffer =>
  len(5, bytes(len(1, t.name), len(2, t.datatype), packed(3, t.shape), ...(t.contents ? [len(5, t.contents)] : [])));
const inferRequest = (model: string, inputs: InputSpec[], raw: Buffer[] = []): Buffer =>
  bytes(len(1, model), ...inputs.map(input), ...raw.map((r) => len(7, r)));

// --- calls with identity serializers -----------------------------------------------------------------------------

interface Outcome {
  code: number;
  details: string;
  response?: Buffer;
}

function callRaw(method: string, message: Buffer, deadlineMs = 60_000): Promise<Outcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      SERVICE + method,
      (b: Buffer) => b,
      (b: Buffer) => b,
      message,
      new grpcJs.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, res) =>
        resolve(
          err
            ? { code: err.code, details: err.details }
            : { code: grpcJs.status.OK, details: '', response: res as Buffer },
        ),
    );
  });
}

/** The raw_output_contents (field 6) of a serialized ModelInferResponse, with a protobuf reader of our own. */
function rawOutputs(res: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  const readVarint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = res[pos++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return v;
    }
  };
  while (pos < res.length) {
    const t = readVarint();
    const wire = t & 7;
    if (wire === 2) {
      const n = readVarint();
      if (t >>> 3 === 6) out.push(res.subarray(pos, pos + n));
      pos += n;
    } else if (wire === 0) readVarint();
    else pos += wire === 1 ? 8 : 4;
  }
  return out;
}

async function expectHealthy(): Promise<void> {
  const ok = await callRaw(
    'ModelInfer',
    inferRequest('linear', [{ name: 'x', datatype: 'FP32', shape: [2] }], [Buffer.from(Float32Array.of(1, 2).buffer)]),
  );
  expect(ok.code).toBe(grpcJs.status.OK);
  const y = rawOutputs(ok.response!)[0]!;
  expect([y.readFloatLE(0), y.readFloatLE(4)]).toEqual([3, 5]);
}

describe('typed contents are decoded within a budget, without one JS value per element', () => {
  // 20 M one-byte INT64 varints: a 20 MiB message (under the 64 MiB message limit) that proto-loader turned into
  // 20 M strings (GBs, minutes of a blocked loop); it now costs one count pass before being refused.
  const N = 20_000_000;
  const attack = (shape: number[]): Buffer =>
    inferRequest('echo', [
      { name: 'big', datatype: 'INT64', shape, contents: bytes(tag(3, 2), varint(N), Buffer.alloc(N, 1)) },
    ]);

  it('more elements than the decoded budget allows: RESOURCE_EXHAUSTED before allocating, memory bounded', async () => {
    const message = attack([N]);
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const r = await callRaw('ModelInfer', message);
    const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;
    expect(r.code).toBe(grpcJs.status.RESOURCE_EXHAUSTED);
    expect(r.details).toContain('Input "big"');
    expect(r.details).toContain('--max_decoded_bytes');
    // The attack decodes to 160 MB as an array and to GBs as strings; the process peak grows by far less.
    expect(peakGrowth).toBeLessThan(8 * N);
    await expectHealthy();
  });

  it('contents that do not match the shape: INVALID_ARGUMENT before allocating', async () => {
    const r = await callRaw('ModelInfer', attack([1]));
    expect(r.code).toBe(grpcJs.status.INVALID_ARGUMENT);
    expect(r.details).toBe(`Input "big": shape [1] needs 1 elements but contents has ${N}.`);
    await expectHealthy();
  });

  it('a large INT64 tensor within budget decodes exactly (packed varints straight into a BigInt64Array)', async () => {
    const n = 1_000_000;
    const values = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 300n, -300n];
    const all = Array.from({ length: n }, (_, i) => values[i % values.length]!);
    const r = await callRaw(
      'ModelInfer',
      inferRequest('echo', [{ name: 'i', datatype: 'INT64', shape: [n], contents: packed(3, all) }]),
    );
    expect(r.code).toBe(grpcJs.status.OK);
    const out = rawOutputs(r.response!)[0]!;
    expect(out.byteLength).toBe(8 * n);
    for (let i = 0; i < values.length * 2; i++) expect(out.readBigInt64LE(8 * i)).toBe(all[i]);
    expect(out.readBigInt64LE(8 * (n - 1))).toBe(all[n - 1]);
  });
});

describe('malformed protobuf is INVALID_ARGUMENT naming what was wrong', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['a truncated varint', bytes([0x0a, 0xff]), 'Malformed ModelInferRequest: truncated varint.'],
    ['a length past the end', bytes([0x0a, 0x05, 0x61]), 'runs past the end of the message'],
    ['a wrong wire type', vint(1, 7), 'field model_name has wire type 0, expected 2'],
    ['a group wire type', bytes([0x0b]), 'unsupported wire type 3 for field 1'],
    ['field number 0', bytes([0x00]), 'invalid field tag'],
    ['a varint of 11 bytes', bytes(tag(15, 0), Array(10).fill(0xff), [0x01]), 'varint longer than 10 bytes'],
    [
      'a truncated varint nested in an input shape',
      len(5, bytes([0x1a, 0x03, 0x80, 0x80, 0x80])),
      'Malformed InferInputTensor: truncated varint.',
    ],
    [
      'a nested length past the end of its parent',
      len(5, bytes(tag(1, 2), [0x10], Buffer.from('abc'))),
      'Malformed InferInputTensor: length-delimited field runs past the end',
    ],
    [
      'fp32_contents as a varint',
      input({ name: 'f', datatype: 'FP32', shape: [1], contents: vint(6, 1) }),
      'Input "f": fp32_contents has wire type 0',
    ],
    [
      'packed fp32_contents of 6 bytes',
      input({ name: 'f', datatype: 'FP32', shape: [1], contents: len(6, Buffer.alloc(6)) }),
      'packed fp32_contents is not a multiple of 4 bytes',
    ],
    [
      'packed int64_contents ending inside a varint',
      input({ name: 'i', datatype: 'INT64', shape: [1], contents: len(3, Buffer.from([0x81])) }),
      'packed int64_contents ends in a truncated varint',
    ],
  ];
  it.each(cases)('%s', async (_, message, expected) => {
    const r = await callRaw('ModelInfer', message);
    expect(r.code).toBe(grpcJs.status.INVALID_ARGUMENT);
    expect(r.details).toContain(expected);
  });

  it('other RPCs (proto-loader) answer malformed bytes with INVALID_ARGUMENT, not INTERNAL with a parser message', async () => {
    for (const [method, message] of [
      ['ModelReady', bytes([0x0a, 0xff])],
      ['ModelMetadata', bytes([0x0f])],
      ['ServerLive', bytes([0x0f])],
    ] as const) {
      const r = await callRaw(method, message);
      expect(r.code).toBe(grpcJs.status.INVALID_ARGUMENT);
      expect(r.details).toBe(`Malformed ${method} request message.`);
    }
    expect((await callRaw('ServerLive', Buffer.alloc(0))).code).toBe(grpcJs.status.OK);
  });
});

describe('typed contents and shapes are range-checked', () => {
  const one = (datatype: string, contents: Buffer, shape: Array<number | bigint> = [1]): Buffer =>
    inferRequest('echo', [{ name: 't', datatype, shape, contents }]);
  const cases: Array<[string, Buffer, string]> = [
    ['UINT8 300', one('UINT8', packed(4, [300])), 'Input "t": element 0 (300) is out of range for UINT8.'],
    ['UINT8 256 at index 2', one('UINT8', packed(4, [1, 2, 256]), [3]), 'element 2 (256) is out of range for UINT8'],
    ['UINT16 65536', one('UINT16', packed(4, [65536])), 'element 0 (65536) is out of range for UINT16'],
    ['UINT32 2^32', one('UINT32', packed(4, [2 ** 32])), 'element 0 (4294967296) is out of range for UINT32'],
    ['INT8 -129', one('INT8', packed(2, [-129])), 'element 0 (-129) is out of range for INT8'],
    ['INT8 128', one('INT8', packed(2, [128])), 'element 0 (128) is out of range for INT8'],
    ['INT16 40000', one('INT16', packed(2, [40000])), 'element 0 (40000) is out of range for INT16'],
    ['INT32 2^31', one('INT32', packed(2, [2 ** 31])), 'element 0 (2147483648) is out of range for INT32'],
    ['BOOL 2', one('BOOL', packed(1, [2])), 'element 0 (2) is out of range for BOOL'],
    ['shape [0, 2^53]', one('FP32', Buffer.alloc(0), [0, 2 ** 53]), 'shape has a dimension of 2^53 or more'],
    ['shape [-1]', one('FP32', Buffer.alloc(0), [-1]), 'shape has a negative dimension'],
    [
      'shape [2^31, 2^31, 2^31]',
      one('FP32', Buffer.alloc(0), [2 ** 31, 2 ** 31, 2 ** 31]),
      'has more elements than can be addressed',
    ],
    ['3 elements for shape [2]', one('FP32', len(6, Buffer.alloc(12)), [2]), 'needs 2 elements but contents has 3'],
    ['FP32 in int_contents', one('FP32', packed(2, [1])), 'datatype FP32 cannot be sent in int_contents'],
    ['FP16 in typed contents', one('FP16', packed(4, [1])), 'FP16 must be sent in raw_input_contents'],
    [
      'two raw entries for one input',
      inferRequest('echo', [{ name: 'x', datatype: 'FP32', shape: [1] }], [Buffer.alloc(4), Buffer.alloc(4)]),
      'raw_input_contents has 2 entries but there are 1 inputs',
    ],
    [
      'raw size not shape × datatype',
      inferRequest('echo', [{ name: 'x', datatype: 'FP32', shape: [2] }], [Buffer.alloc(4)]),
      'needs 8 bytes of raw data but got 4',
    ],
    [
      'raw and typed contents together',
      inferRequest(
        'echo',
        [{ name: 'x', datatype: 'FP32', shape: [1], contents: len(6, Buffer.alloc(4)) }],
        [Buffer.alloc(4)],
      ),
      'contents must be empty when raw_input_contents is used',
    ],
  ];
  it.each(cases)('%s', async (_, message, expected) => {
    const r = await callRaw('ModelInfer', message);
    expect(r.code).toBe(grpcJs.status.INVALID_ARGUMENT);
    expect(r.details).toContain(expected);
  });

  it('accepts unpacked and mixed packed/unpacked encodings, as protobuf requires', async () => {
    const f32 = (v: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeFloatLE(v);
      return b;
    };
    const r = await callRaw(
      'ModelInfer',
      inferRequest('echo', [
        {
          name: 'f',
          datatype: 'FP32',
          shape: [3],
          contents: bytes(tag(6, 5), f32(1.5), len(6, bytes(f32(-2), f32(4)))),
        },
        { name: 'i', datatype: 'INT8', shape: [3], contents: bytes(vint(2, -128), packed(2, [127]), vint(2, -1)) },
        { name: 'l', datatype: 'INT64', shape: [2], contents: bytes(vint(3, -5n), vint(3, 2n ** 40n)) },
        { name: 'u', datatype: 'UINT64', shape: [1], contents: vint(5, 2n ** 64n - 1n) },
        { name: 'b', datatype: 'BOOL', shape: [2], contents: bytes(vint(1, 1), vint(1, 0)) },
        {
          name: 'd',
          datatype: 'FP64',
          shape: [1],
          contents: bytes(tag(7, 1), Buffer.from(Float64Array.of(0.1).buffer)),
        },
        { name: 's', datatype: 'BYTES', shape: [2], contents: bytes(len(8, 'hi'), len(8, '')) },
      ]),
    );
    expect(r.code).toBe(grpcJs.status.OK);
    const [f, i, l, u, b, d, s] = rawOutputs(r.response!);
    expect([f!.readFloatLE(0), f!.readFloatLE(4), f!.readFloatLE(8)]).toEqual([1.5, -2, 4]);
    expect([...new Int8Array(i!.buffer, i!.byteOffset, 3)]).toEqual([-128, 127, -1]);
    expect([l!.readBigInt64LE(0), l!.readBigInt64LE(8)]).toEqual([-5n, 2n ** 40n]);
    expect(u!.readBigUInt64LE(0)).toBe(2n ** 64n - 1n);
    expect([...b!]).toEqual([1, 0]);
    expect(d!.readDoubleLE(0)).toBe(0.1);
    expect(s).toEqual(Buffer.from([2, 0, 0, 0, 0x68, 0x69, 0, 0, 0, 0]));
  });
});

describe('error details are bounded, so one error cannot hang its HTTP/2 connection', () => {
  it('a ~100k-character model name gets NOT_FOUND with clipped details; the next call on the channel succeeds', async () => {
    const name = 'm'.repeat(100_000);
    const r = await callRaw(
      'ModelInfer',
      inferRequest(name, [{ name: 'x', datatype: 'FP32', shape: [1] }], [Buffer.alloc(4)]),
      20_000,
    );
    expect(r.code).toBe(grpcJs.status.NOT_FOUND);
    // The name is clipped where the message is built (errors.ts `clip`), and details are capped at 1 KiB anyway.
    expect(r.details.length).toBeLessThanOrEqual(1024);
    expect(r.details).toContain('…');
    await expectHealthy();
  });

  it('other RPCs clip their error details too (ModelReady of a ~100k-character name)', async () => {
    const r = await callRaw('ModelReady', len(1, 'r'.repeat(100_000)), 20_000);
    expect(r.code).toBe(grpcJs.status.NOT_FOUND);
    expect(r.details.length).toBeLessThanOrEqual(1024);
    await expectHealthy();
  });

  it('a ~100k-character tensor name is clipped where the error is built', async () => {
    const name = 'n'.repeat(100_000);
    const r = await callRaw(
      'ModelInfer',
      inferRequest('echo', [{ name, datatype: 'FP32', shape: [2], contents: len(6, Buffer.alloc(4)) }]),
      20_000,
    );
    expect(r.code).toBe(grpcJs.status.INVALID_ARGUMENT);
    expect(r.details).toBe(`Input "${'n'.repeat(256)}…": shape [2] needs 2 elements but contents has 1.`);
    await expectHealthy();
  });
});
