// The byte-level reader of numeric `data` lists gives exactly what JSON.parse gives, and hands anything else back.

import { describe, expect, it } from 'vitest';
import { decodeNumericBlock } from '../src/tensor/json-codec.js';
import { parseV2JsonBody, readNumericList } from '../src/tensor/json-numeric.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');

function read(list: string): number[] | undefined {
  const block = readNumericList(bytes(list), 0);
  return block ? Array.from(block.values.subarray(0, block.count)) : undefined;
}

describe('readNumericList', () => {
  it('matches JSON.parse bit for bit on tricky and random numbers', () => {
    const tricky = [
      '0',
      '-0',
      '1.5',
      '0.1',
      '0.30000000000000004',
      '1e3',
      '1E-3',
      '-2.5e+10',
      '123456789012345678',
      '3.141592653589793',
      '2.2250738585072014e-308',
      '5e-324',
      '1.7976931348623157e308',
      '9007199254740993',
      '0.000001',
      '100000000000000000000000',
      '1.00000000000000011102230246251565404236316680908203125',
    ];
    const random = Array.from({ length: 5000 }, (_, i) => String((Math.random() - 0.5) * 10 ** ((i % 40) - 20)));
    const all = [...tricky, ...random];
    const text = `[${all.join(',')}]`;
    expect(read(text)).toEqual(JSON.parse(text));
    expect(Object.is(read('[-0]')![0], -0)).toBe(true);
  });

  it('walks nested lists with whitespace in row-major order', () => {
    expect(read('[ [1, 2] ,\n[3,\t[4]] , [] ]')).toEqual([1, 2, 3, 4]);
  });

  it('hands back lists that are not plain JSON numbers', () => {
    for (const bad of [
      '[01]',
      '[1.]',
      '[.5]',
      '[+1]',
      '[1,]',
      '[,1]',
      '[1 2]',
      '[1,"a"]',
      '[true]',
      '[null]',
      '[1',
      '[[1]',
    ]) {
      expect(read(bad), bad).toBeUndefined();
    }
  });
});

describe('parseV2JsonBody', () => {
  it('takes out only the data lists of tensor objects', () => {
    const text =
      '{"id":"data","parameters":{"data":[1]},"inputs":[{"name":"\\"data\\": [9]","data" : [[1,2],[3,4]],"datatype":"FP32","shape":[2,2]},' +
      '{"name":"s","datatype":"BYTES","shape":[1],"data":["x"]}]}';
    const { body, blocks } = parseV2JsonBody(bytes(text), 64);
    const parsed = body as { id: string; parameters: unknown; inputs: Array<{ name: string; data: unknown }> };
    expect(parsed.id).toBe('data');
    expect(parsed.parameters).toEqual({ data: [1] });
    expect(parsed.inputs[0]!.name).toBe('"data": [9]');
    expect(parsed.inputs[1]!.data).toEqual(['x']);
    expect(blocks.size).toBe(1);
    const block = blocks.get(parsed.inputs[0]!.data as string)!;
    expect(Array.from(decodeNumericBlock('t', 'FP32', [2, 2], block) as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('checks the block like decodeJsonData: count, datatype values, exact 64-bit integers', () => {
    const block = (list: string) => readNumericList(bytes(list), 0)!;
    expect(() => decodeNumericBlock('t', 'FP32', [3], block('[1,2]'))).toThrow('needs 3 elements but data has 2');
    expect(() => decodeNumericBlock('t', 'INT8', [1], block('[200]'))).toThrow('value 200 is not a valid INT8');
    expect(() => decodeNumericBlock('t', 'INT32', [1], block('[1.5]'))).toThrow('not a valid INT32');
    expect(() => decodeNumericBlock('t', 'BYTES', [1], block('[1]'))).toThrow('not a valid BYTES');
    const big = decodeNumericBlock('t', 'INT64', [2], block('[9223372036854775807, -9007199254740993]'));
    expect(Array.from(big as BigInt64Array)).toEqual([2n ** 63n - 1n, -(2n ** 53n + 1n)]);
    expect(() => decodeNumericBlock('t', 'UINT64', [1], block('[18446744073709551616]'))).toThrow('not a valid UINT64');
  });

  it('reads a Uint8Array view (not a Buffer) with multi-byte text around several lists, as JSON.parse reads it', () => {
    const doc = {
      id: 'réq ✓',
      inputs: [
        { name: 'ä', datatype: 'FP64', shape: [2], data: [1.25, -3] },
        { name: '日本', datatype: 'BYTES', shape: [1], data: ['ü'] },
        { name: '😀', datatype: 'INT32', shape: [1, 3], data: [[7, 8, 9]] },
      ],
      parameters: { note: 'ß' },
    };
    const encoded = Buffer.from(JSON.stringify(doc), 'utf8');
    const backing = new Uint8Array(encoded.byteLength + 7);
    backing.set(encoded, 3);
    const view = new Uint8Array(backing.buffer, 3, encoded.byteLength);
    const { body, blocks } = parseV2JsonBody(view, 64);
    expect(blocks.size).toBe(2);
    const parsed = body as typeof doc;
    const data = (i: number, dt: 'FP64' | 'INT32') =>
      Array.from(
        decodeNumericBlock('t', dt, doc.inputs[i]!.shape, blocks.get(parsed.inputs[i]!.data as never)!) as Float64Array,
      );
    expect(data(0, 'FP64')).toEqual([1.25, -3]);
    expect(data(2, 'INT32')).toEqual([7, 8, 9]);
    const placeholders = {
      ...parsed,
      inputs: parsed.inputs.map((t, i) => (i === 1 ? t : { ...t, data: doc.inputs[i]!.data })),
    };
    expect(placeholders).toEqual(doc);
  });

  it('malformed JSON and deep nesting are 400s', () => {
    expect(() => parseV2JsonBody(bytes('{"inputs":[{"data":[1,2]'), 64)).toThrow('Malformed JSON body');
    expect(() => parseV2JsonBody(bytes(`{"a":${'['.repeat(100)}${']'.repeat(100)}}`), 64)).toThrow('--max_json_depth');
  });
});
