/** Reads joblib (`joblib.dump`) and plain pickle files into inert Python values, decompressing zlib/gzip. */

import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync, inflateSync } from 'node:zlib';
import { ByteReader } from './byte-reader.js';
import { PickleFormatError } from './errors.js';
import { inflateCap, PickleLimitError, type PickleLimits, pickleLimits } from './limits.js';
import type { PyValue } from './py-types.js';
import { unpickle } from './unpickler.js';

const startsWith = (b: Uint8Array, prefix: number[]): boolean => prefix.every((v, i) => b[i] === v);

/** Inflate with an output cap: a bomb fails as soon as its output passes the cap, before more is allocated. */
function inflateCapped(bytes: Uint8Array, kind: 'zlib' | 'gzip', limits: PickleLimits): Uint8Array {
  const maxBytes = inflateCap(bytes.byteLength, limits);
  try {
    // maxOutputLength + 1 tells "exactly at the cap" from "past it".
    const options = { maxOutputLength: Math.min(maxBytes + 1, bufferConstants.MAX_LENGTH) };
    return kind === 'zlib' ? inflateSync(bytes, options) : gunzipSync(bytes, options);
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger than/i.test(err.message)) {
      const why =
        maxBytes < limits.maxBytes
          ? `${limits.maxInflateRatio}× its compressed size (a compression bomb?)`
          : 'the file budget (--model_max_bytes)';
      throw new PickleLimitError(`${kind}-compressed joblib file inflates past ${maxBytes} bytes, ${why}; refusing it`);
    }
    throw new PickleFormatError(`${kind}-compressed joblib file is corrupt or truncated: ${err.message}`);
  }
}

/**
 * Detect joblib's compression from the file's first bytes; returns the raw pickle stream, refused when it
 * holds more than the file budget (`limits.maxBytes`, default 1 GiB).
 */
export function decompressJoblib(bytes: Uint8Array, limits: Partial<PickleLimits> = {}): Uint8Array {
  const all = pickleLimits(limits);
  const { maxBytes } = all;
  if (bytes.byteLength === 0) throw new PickleFormatError('file is empty');
  if (bytes.byteLength > maxBytes) {
    throw new PickleLimitError(
      `model file of ${bytes.byteLength} bytes is over the ${maxBytes}-byte file budget (--model_max_bytes)`,
    );
  }
  if (bytes[0] === 0x80) return bytes; // uncompressed pickle (protocol 2+)
  if (bytes[0] === 0x78) return inflateCapped(bytes, 'zlib', all);
  if (startsWith(bytes, [0x1f, 0x8b])) return inflateCapped(bytes, 'gzip', all);
  const others: [number[], string][] = [
    [[0x04, 0x22, 0x4d, 0x18], 'lz4'],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a], 'xz'],
    [[0x5d, 0x00], 'lzma'],
    [[0x42, 0x5a], 'bz2'],
  ];
  for (const [magic, name] of others) {
    if (startsWith(bytes, magic)) {
      throw new PickleFormatError(
        `joblib file is ${name}-compressed, which servekit cannot read; re-save it uncompressed or with compress=('zlib', 3) / ('gzip', 3)`,
      );
    }
  }
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) {
    throw new PickleFormatError(
      'file is a zip archive (e.g. a PyTorch or pickle-in-zip file), not a joblib/pickle file',
    );
  }
  if (bytes[0] === 0x28 || bytes[0] === 0x63 || bytes[0] === 0x5d || bytes[0] === 0x7d) return bytes; // protocol 0/1
  throw new PickleFormatError(
    `file is not a pickle/joblib file (first byte 0x${bytes[0]!.toString(16).padStart(2, '0')}; expected 0x80 for pickle protocol 2-5, 0x78 for zlib, 1f 8b for gzip)`,
  );
}

/** Unpickle a joblib or pickle file's bytes (restricted: nothing is executed; sizes capped by `limits`). */
export function readJoblibBytes(bytes: Uint8Array, limits: Partial<PickleLimits> = {}): PyValue {
  const stream = decompressJoblib(bytes, limits);
  const reader = new ByteReader(stream);
  return unpickle(reader, limits);
}
