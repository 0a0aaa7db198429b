// The client's wire encoders/decoders against core's server-side codecs (both directions, no sockets).

import type { InferTensor } from '@servekit/core';
import { decodeGrpcRequest, encodeGrpcResponse } from '@servekit/core/wire';
import { describe, expect, it } from 'vitest';
import { decodeInferRequest, encodeInferResponse } from '../../core/src/protocols/v2-codec.js';
import { decodeGrpcResponse, encodeGrpcRequest } from '../src/grpc-codec.js';
import { ClientError } from '../src/index.js';
import { decodeRestResponse, encodeRestRequest } from '../src/rest-codec.js';

const tensors: InferTensor[] = [
  { name: 'f', datatype: 'FP32', shape: [2, 2], data: Float32Array.of(1.5, -2, 3, 4) },
  { name: 'i', datatype: 'INT64', shape: [2], data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n) },
  { name: 'h', datatype: 'FP16', shape: [1], data: Uint16Array.of(0x3e00) },
  { name: 's', datatype: 'BYTES', shape: [2], data: [Uint8Array.of(0, 255), 'ok'] },
];
const jsonSafe = tensors.map((t) =>
  t.name === 'i'
    ? { ...t, data: BigInt64Array.of(-5n, 2n ** 53n - 1n) }
    : t.name === 's'
      ? { ...t, data: ['a', 'ok'] }
      : t,
);

const plain = (t: InferTensor) => ({
  ...t,
  data: Array.isArray(t.data)
    ? t.data.map((b) => Buffer.from(b).toString('hex'))
    : Array.from(t.data as ArrayLike<number | bigint>),
});

function concat(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

describe('REST request encoding', () => {
  it('JSON body decodes on the server to the same tensors', () => {
    const enc = encodeRestRequest({ id: 'r', parameters: { p: 1 }, inputs: jsonSafe, outputs: [{ name: 'f' }] });
    expect(enc.headers['content-type']).toBe('application/json');
    const decoded = decodeInferRequest(JSON.parse(concat(enc.body).toString()));
    expect(decoded.id).toBe('r');
    expect(decoded.parameters).toEqual({ p: 1 });
    expect(decoded.outputs).toEqual([{ name: 'f' }]);
    expect(decoded.inputs.map(plain)).toEqual(jsonSafe.map(plain));
  });

  it('binary body decodes on the server to the same tensors, exactly (64-bit, raw bytes)', () => {
    const enc = encodeRestRequest({ inputs: tensors }, { binary: true, binaryOutputs: true });
    const body = concat(enc.body);
    const jsonLength = Number(enc.headers['inference-header-content-length']);
    const head = JSON.parse(body.toString('utf8', 0, jsonLength));
    expect(head.parameters).toEqual({ binary_data_output: true });
    expect(head.inputs[0].data).toBeUndefined();
    const decoded = decodeInferRequest(head, body.subarray(jsonLength));
    expect(decoded.inputs.map(plain)).toEqual(tensors.map(plain));
  });

  it('typed-array inputs are sent as views, not copies', () => {
    const data = Float32Array.of(1, 2);
    const enc = encodeRestRequest({ inputs: [{ name: 'a', datatype: 'FP32', shape: [2], data }] }, { binary: true });
    expect(enc.body[1]!.buffer).toBe(data.buffer);
  });
});

describe('REST response decoding', () => {
  it('decodes a JSON response from the server encoder', () => {
    const { json, binary } = encodeInferResponse({ model_name: 'm', id: 'q', outputs: jsonSafe }, { inputs: [] });
    expect(binary).toEqual([]);
    const res = decodeRestResponse(Buffer.from(json));
    expect(res).toMatchObject({ model_name: 'm', id: 'q' });
    expect(res.outputs.map(plain)).toEqual(jsonSafe.map(plain));
  });

  it('decodes a binary response from the server encoder', () => {
    const { json, binary } = encodeInferResponse(
      { model_name: 'm', outputs: tensors },
      { inputs: [], parameters: { binary_data_output: true } },
    );
    const head = Buffer.from(json);
    const res = decodeRestResponse(Buffer.concat([head, ...binary.map((b) => Buffer.from(b))]), head.byteLength);
    expect(res.outputs.map(plain)).toEqual(tensors.map(plain));
    expect(res.outputs[0]!.parameters).toBeUndefined();
  });

  it('rejects malformed responses with ClientError', () => {
    expect(() => decodeRestResponse(Buffer.from('not json'))).toThrow(ClientError);
    expect(() => decodeRestResponse(Buffer.from('{"outputs":[]}'))).toThrow(/model_name/);
    const head = Buffer.from(
      JSON.stringify({
        model_name: 'm',
        outputs: [{ name: 'a', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }],
      }),
    );
    expect(() => decodeRestResponse(Buffer.concat([head, Buffer.alloc(4)]), head.byteLength)).toThrow(
      /needs 8 binary bytes/,
    );
    expect(() => decodeRestResponse(head, head.byteLength + 10)).toThrow(/does not fit/);
  });
});

describe('gRPC encoding', () => {
  it('raw request decodes on the server to the same tensors', () => {
    const msg = encodeGrpcRequest('m', '3', {
      id: 'g',
      inputs: tensors,
      outputs: [{ name: 'f', parameters: { k: 'v' } }],
    });
    expect(msg.raw_input_contents).toHaveLength(tensors.length);
    expect(msg.model_version).toBe('3');
    const { request, usedRaw } = decodeGrpcRequest(msg);
    expect(usedRaw).toBe(true);
    expect(request.id).toBe('g');
    expect(request.outputs).toEqual([{ name: 'f', parameters: { k: 'v' } }]);
    expect(request.inputs.map(plain)).toEqual(tensors.map(plain));
  });

  it('typed request uses contents (unless FP16/BF16 force raw)', () => {
    const noHalf = tensors.filter((t) => t.datatype !== 'FP16');
    const msg = encodeGrpcRequest('m', undefined, { inputs: noHalf }, true);
    expect(msg.raw_input_contents).toEqual([]);
    expect(msg.inputs![0]!.contents!.fp32_contents).toEqual([1.5, -2, 3, 4]);
    expect(decodeGrpcRequest(msg).request.inputs.map(plain)).toEqual(noHalf.map(plain));
    expect(encodeGrpcRequest('m', undefined, { inputs: tensors }, true).raw_input_contents).toHaveLength(
      tensors.length,
    );
  });

  it('decodes raw and typed responses from the server encoder', () => {
    for (const raw of [true, false]) {
      const msg = encodeGrpcResponse(
        { model_name: 'm', model_version: '2', outputs: tensors, parameters: { a: true } },
        raw,
      );
      const res = decodeGrpcResponse(msg);
      expect(res).toMatchObject({ model_name: 'm', model_version: '2', parameters: { a: true } });
      expect(res.outputs.map(plain)).toEqual(tensors.map(plain));
    }
  });

  it('a response without outputs decodes to no outputs', () => {
    expect(decodeGrpcResponse({ model_name: 'm', outputs: [], raw_output_contents: [] }).outputs).toEqual([]);
  });

  it('typed contents outside the datatype range, or an unaddressable shape, are a ClientError (not wrapped)', () => {
    const uint8 = { name: 'u', datatype: 'UINT8', shape: [2], contents: { uint_contents: [1, 300] } };
    expect(() => decodeGrpcResponse({ model_name: 'm', outputs: [uint8] })).toThrow(
      'Malformed ModelInferResponse: Input "u": element 1 (300) is out of range for UINT8.',
    );
    const huge = { name: 'h', datatype: 'FP32', shape: ['0', '9007199254740993'], contents: {} };
    expect(() => decodeGrpcResponse({ model_name: 'm', outputs: [huge] })).toThrow(ClientError);
  });
});
