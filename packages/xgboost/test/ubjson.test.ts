import { describe, expect, it } from 'vitest';
import { decodeUbjson, UbjsonError } from '../src/ubjson.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p)));

describe('decodeUbjson', () => {
  it('decodes scalars, strings, objects and arrays (big-endian)', () => {
    expect(decodeUbjson(bytes('i', [0xfe]))).toBe(-2);
    expect(decodeUbjson(bytes('U', [200]))).toBe(200);
    expect(decodeUbjson(bytes('I', [0x01, 0x00]))).toBe(256);
    expect(decodeUbjson(bytes('l', [0xff, 0xff, 0xff, 0xff]))).toBe(-1);
    expect(decodeUbjson(bytes('L', [0, 0, 0, 0, 0, 0, 0, 5]))).toBe(5);
    expect(decodeUbjson(bytes('d', [0x3f, 0xc0, 0, 0]))).toBe(1.5);
    expect(decodeUbjson(bytes('D', [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]))).toBe(Math.PI);
    expect(decodeUbjson(bytes('T'))).toBe(true);
    expect(decodeUbjson(bytes('Z'))).toBe(null);
    expect(decodeUbjson(bytes('S', 'i', [2], 'hi'))).toBe('hi');
    expect(decodeUbjson(bytes('{', 'L', [0, 0, 0, 0, 0, 0, 0, 1], 'a', '[', 'i', [1], 'T', ']', '}'))).toEqual({
      a: [1, true],
    });
  });

  it('decodes optimized typed arrays as XGBoost writes them', () => {
    const v = decodeUbjson(bytes('[', '$', 'd', '#', 'L', [0, 0, 0, 0, 0, 0, 0, 2], [0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0]));
    expect(v).toEqual([1, -2]);
    expect(decodeUbjson(bytes('{', '#', 'i', [1], 'i', [1], 'k', 'U', [7]))).toEqual({ k: 7 });
  });

  it('reports truncation and garbage with offsets', () => {
    expect(() => decodeUbjson(bytes('[', '$', 'd', '#', 'i', [3], [0, 0, 0, 0]))).toThrow(UbjsonError);
    expect(() => decodeUbjson(bytes('[', '$', 'd', '#', 'i', [3], [0, 0, 0, 0]))).toThrow(/truncated: float32/);
    expect(() => decodeUbjson(bytes('S', 'i', [9], 'ab'))).toThrow(/truncated: string needs 9 byte/);
    expect(() => decodeUbjson(bytes('x'))).toThrow(/expected a numeric type marker at offset 0, found 0x78 'x'/);
    expect(() => decodeUbjson(bytes('T', 'T'))).toThrow(/trailing/);
  });
});
