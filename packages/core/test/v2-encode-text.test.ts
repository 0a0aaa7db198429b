// encodeInferResponse writes the text it wrote before its outputs became one fixed-shape object each: key order,
// keys left out when unset, parameters less binary_data, binary_data_size for binary outputs, bigints past 2^53.
import { describe, expect, it } from 'vitest';
import type { InferRequest, InferResponse } from '../src/protocols/infer-types.js';
import { encodeInferResponse } from '../src/protocols/v2-codec.js';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Responses, the request each answers, and the text and binary parts the encoder wrote for them before. */
const CASES: Array<[string, InferResponse, InferRequest, string, string[]]> = [
  [
    'two JSON outputs, a non-finite value',
    {
      model_name: 'm',
      outputs: [
        { name: 'p', datatype: 'FP32', shape: [1, 3], data: Float32Array.of(0.25, Number.NaN, 1e-7) },
        { name: 'l', datatype: 'INT64', shape: [1], data: BigInt64Array.of(2n) },
      ],
    },
    { inputs: [] },
    '{"model_name":"m","outputs":[{"name":"p","datatype":"FP32","shape":[1,3],"data":[0.25,"NaN",1.0000000116860974e-7]},{"name":"l","datatype":"INT64","shape":[1],"data":[2]}]}',
    [],
  ],
  [
    'version, id, parameters, an output parameter, an INT64 past 2^53',
    {
      model_name: 'm',
      model_version: '2',
      id: 'q"1',
      parameters: { a: 1, b: 'x' },
      outputs: [
        {
          name: 'big',
          datatype: 'INT64',
          shape: [2],
          data: BigInt64Array.of(2n ** 62n, -3n),
          parameters: { binary_data: false, unit: 'cm' },
        },
      ],
    },
    { inputs: [] },
    '{"model_name":"m","model_version":"2","id":"q\\"1","parameters":{"a":1,"b":"x"},"outputs":[{"name":"big","datatype":"INT64","shape":[2],"parameters":{"unit":"cm"},"data":[4611686018427387904,-3]}]}',
    [],
  ],
  [
    'binary outputs (own flag and the request flag), keys set to undefined',
    {
      model_name: 'm',
      model_version: undefined,
      id: undefined,
      outputs: [
        { name: 'b', datatype: 'BOOL', shape: [2], data: Uint8Array.of(1, 0), parameters: { binary_data: true, k: 1 } },
        { name: 's', datatype: 'BYTES', shape: [1], data: ['h\u00e9'] },
      ],
    },
    { inputs: [], parameters: { binary_data_output: true } },
    '{"model_name":"m","outputs":[{"name":"b","datatype":"BOOL","shape":[2],"parameters":{"k":1,"binary_data_size":2}},{"name":"s","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":7}}]}',
    ['0100', '0300000068c3a9'],
  ],
  [
    'null parameters kept, a plain-list output',
    {
      model_name: 'm',
      parameters: null as unknown as undefined,
      outputs: [{ name: 'f', datatype: 'FP64', shape: [1], data: [1.5] as unknown as Float64Array }],
    },
    { inputs: [] },
    '{"model_name":"m","parameters":null,"outputs":[{"name":"f","datatype":"FP64","shape":[1],"data":[1.5]}]}',
    [],
  ],
];

describe('encodeInferResponse text', () => {
  it.each(CASES)('%s', (_, res, req, json, binary) => {
    const out = encodeInferResponse(res, req);
    expect(out.json).toBe(json);
    expect(out.binary.map(hex)).toEqual(binary);
  });
});
