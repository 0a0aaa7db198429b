// servekit's ModelInfer codec against protobufjs (proto-loader, from the same proto): what one writes the other reads.
import { describe, expect, it } from 'vitest';
import { GrpcCode } from '../src/errors.js';
import { DEFAULT_REQUEST_LIMITS, RequestTooLarge } from '../src/limits.js';
import { inferenceService } from '../src/protocols/grpc-proto.js';
import { decodeModelInferRequest, encodeModelInferResponse } from '../src/protocols/model-infer-codec.js';

const method = inferenceService().service.ModelInfer;

describe('decodeModelInferRequest reads what protobufjs writes', () => {
  it('routing fields, every parameter kind, requested outputs, typed and raw inputs', () => {
    const bytes = method.requestSerialize({
      model_name: 'm',
      model_version: '3',
      id: 'req-1',
      parameters: {
        flag: { bool_param: true },
        neg: { int64_param: '-42' },
        text: { string_param: 'héllo' },
        ratio: { double_param: 0.25 },
        big: { uint64_param: '9007199254740991' },
      },
      inputs: [
        { name: 'a', datatype: 'INT32', shape: [2], parameters: { content_type: { string_param: 'x' } } },
        { name: 'b', datatype: 'BYTES', shape: [2] },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: { bool_param: false } } }, { name: 'z' }],
      raw_input_contents: [Buffer.from(Int32Array.of(-1, 7).buffer), Buffer.from([1, 0, 0, 0, 0x61, 0, 0, 0, 0])],
    });
    const { modelName, modelVersion, request } = decodeModelInferRequest(bytes, DEFAULT_REQUEST_LIMITS);
    expect(modelName).toBe('m');
    expect(modelVersion).toBe('3');
    expect(request.id).toBe('req-1');
    expect(request.parameters).toEqual({ flag: true, neg: -42, text: 'héllo', ratio: 0.25, big: 9007199254740991 });
    expect(request.outputs).toEqual([{ name: 'y', parameters: { binary_data: false } }, { name: 'z' }]);
    const [a, b] = request.inputs;
    expect(a).toMatchObject({ name: 'a', datatype: 'INT32', shape: [2], parameters: { content_type: 'x' } });
    expect(Array.from(a!.data as Int32Array)).toEqual([-1, 7]);
    expect((b!.data as Uint8Array[]).map((e) => Buffer.from(e).toString())).toEqual(['a', '']);
  });

  it('typed contents of every datatype, at their extremes', () => {
    const bytes = method.requestSerialize({
      model_name: 'm',
      inputs: [
        { name: 'i8', datatype: 'INT8', shape: [2], contents: { int_contents: [-128, 127] } },
        { name: 'i16', datatype: 'INT16', shape: [2], contents: { int_contents: [-32768, 32767] } },
        { name: 'i32', datatype: 'INT32', shape: [2], contents: { int_contents: [-2147483648, 2147483647] } },
        { name: 'u8', datatype: 'UINT8', shape: [1], contents: { uint_contents: [255] } },
        { name: 'u16', datatype: 'UINT16', shape: [1], contents: { uint_contents: [65535] } },
        { name: 'u32', datatype: 'UINT32', shape: [1], contents: { uint_contents: [4294967295] } },
        { name: 'u64', datatype: 'UINT64', shape: [1], contents: { uint64_contents: ['18446744073709551615'] } },
        { name: 'bool', datatype: 'BOOL', shape: [2], contents: { bool_contents: [false, true] } },
        { name: 'f64', datatype: 'FP64', shape: [2], contents: { fp64_contents: [Math.PI, -0] } },
        { name: 'empty', datatype: 'FP32', shape: [0, 3] },
      ],
    });
    const { request } = decodeModelInferRequest(bytes, DEFAULT_REQUEST_LIMITS);
    const plain = request.inputs.map((t) => [t.name, Array.from(t.data as ArrayLike<number | bigint>)]);
    expect(plain).toEqual([
      ['i8', [-128, 127]],
      ['i16', [-32768, 32767]],
      ['i32', [-2147483648, 2147483647]],
      ['u8', [255]],
      ['u16', [65535]],
      ['u32', [4294967295]],
      ['u64', [18446744073709551615n]],
      ['bool', [0, 1]],
      ['f64', [Math.PI, -0]],
      ['empty', []],
    ]);
    expect(request.inputs[0]!.data).toBeInstanceOf(Int8Array);
    expect(request.inputs[6]!.data).toBeInstanceOf(BigUint64Array);
  });

  it('raw inputs are views of the received message, not copies, when aligned', () => {
    const bytes = method.requestSerialize({
      model_name: 'm',
      inputs: [{ name: 'x', datatype: 'UINT8', shape: [4] }],
      raw_input_contents: [Buffer.from([1, 2, 3, 4])],
    });
    const data = decodeModelInferRequest(bytes, DEFAULT_REQUEST_LIMITS).request.inputs[0]!.data as Uint8Array;
    expect(data.buffer).toBe(bytes.buffer);
  });

  it('raw and typed inputs count against maxDecodedBytes (RESOURCE_EXHAUSTED)', () => {
    const limits = { ...DEFAULT_REQUEST_LIMITS, maxDecodedBytes: 1000 };
    const raw = method.requestSerialize({
      model_name: 'm',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1024] }],
      raw_input_contents: [Buffer.alloc(4096)],
    });
    const typed = method.requestSerialize({
      model_name: 'm',
      inputs: [{ name: 'x', datatype: 'FP64', shape: [200], contents: { fp64_contents: new Array(200).fill(1) } }],
    });
    for (const bytes of [raw, typed]) {
      const err = (() => {
        try {
          decodeModelInferRequest(bytes, limits);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(RequestTooLarge);
      expect((err as RequestTooLarge).grpcCode).toBe(GrpcCode.RESOURCE_EXHAUSTED);
      expect((err as Error).message).toContain('Input "x"');
    }
  });
});

describe('encodeModelInferResponse writes what protobufjs reads', () => {
  it('raw_output_contents for every output (BYTES length-prefixed), shapes and parameters', () => {
    const bytes = encodeModelInferResponse({
      model_name: 'm',
      model_version: '2',
      id: 'r-9',
      parameters: { n: 3, neg: -5, x: 0.5, s: 'ü', b: true, skipped: undefined },
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [2, 1], data: Float32Array.of(1.5, -2), parameters: { k: 'v' } },
        { name: 'big', datatype: 'INT64', shape: [1], data: BigInt64Array.of(-(2n ** 63n)) },
        { name: 's', datatype: 'BYTES', shape: [2], data: ['hi', Uint8Array.of(0xff)] },
        { name: 'h', datatype: 'FP16', shape: [1], data: Uint16Array.of(0x3c00) },
        { name: 'i8', datatype: 'INT8', shape: [2], data: Int32Array.of(-1, 5) },
        { name: 'e', datatype: 'FP32', shape: [0, 2 ** 40], data: new Float32Array(0) },
      ],
    });
    const msg = method.responseDeserialize(bytes) as {
      model_name: string;
      model_version: string;
      id: string;
      parameters: Record<string, Record<string, unknown>>;
      outputs: Array<{ name: string; datatype: string; shape: string[]; parameters: Record<string, unknown> }>;
      raw_output_contents: Buffer[];
    };
    expect([msg.model_name, msg.model_version, msg.id]).toEqual(['m', '2', 'r-9']);
    expect(msg.parameters).toEqual({
      n: { int64_param: '3', parameter_choice: 'int64_param' },
      neg: { int64_param: '-5', parameter_choice: 'int64_param' },
      x: { double_param: 0.5, parameter_choice: 'double_param' },
      s: { string_param: 'ü', parameter_choice: 'string_param' },
      b: { bool_param: true, parameter_choice: 'bool_param' },
    });
    expect(msg.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['y', 'FP32', ['2', '1']],
      ['big', 'INT64', ['1']],
      ['s', 'BYTES', ['2']],
      ['h', 'FP16', ['1']],
      ['i8', 'INT8', ['2']],
      ['e', 'FP32', ['0', String(2 ** 40)]],
    ]);
    expect(msg.outputs[0]!.parameters).toEqual({ k: { string_param: 'v', parameter_choice: 'string_param' } });
    const [y, big, s, h, i8, e] = msg.raw_output_contents;
    expect([y!.readFloatLE(0), y!.readFloatLE(4)]).toEqual([1.5, -2]);
    expect(big!.readBigInt64LE(0)).toBe(-(2n ** 63n));
    expect(s).toEqual(Buffer.from([2, 0, 0, 0, 0x68, 0x69, 1, 0, 0, 0, 0xff]));
    expect(h!.readUInt16LE(0)).toBe(0x3c00);
    expect([...new Int8Array(i8!.buffer, i8!.byteOffset, 2)]).toEqual([-1, 5]);
    expect(e!.byteLength).toBe(0);
  });
});
