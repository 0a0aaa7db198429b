/** Reads joblib (`joblib.dump`) and plain pickle files into inert Python values, decompressing zlib/gzip. */
import { readFile } from 'node:fs/promises';
import { gunzipSync, inflateSync } from 'node:zlib';
import { ByteReader } from './byte-reader.js';
import { PickleFormatError } from './errors.js';
import type { PyValue } from './py-types.js';
import { unpickle } from './unpickler.js';

const startsWith = (b: Uint8Array, prefix: number[]): boolean => prefix.every((v, i) => b[i] === v);

/** Detect joblib's compression from the file's first bytes; returns the raw pickle stream. */
export function decompressJoblib(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength === 0) throw new PickleFormatError('file is empty');
  if (bytes[0] === 0x80) return bytes; // uncompressed pickle (protocol 2+)
  if (bytes[0] === 0x78) {
    try {
      return inflateSync(bytes);
    } catch (e) {
      throw new PickleFormatError(`zlib-compressed joblib file is corrupt or truncated: ${(e as Error).message}`);
    }
  }
  if (startsWith(bytes, [0x1f, 0x8b])) {
    try {
      return gunzipSync(bytes);
    } catch (e) {
      throw new PickleFormatError(`gzip-compressed joblib file is corrupt or truncated: ${(e as Error).message}`);
    }
  }
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

/** Unpickle a joblib or pickle file's bytes (restricted: nothing is executed). */
export function readJoblibBytes(bytes: Uint8Array): PyValue {
  const stream = decompressJoblib(bytes);
  const reader = new ByteReader(stream);
  return unpickle(reader);
}

/** Read and unpickle a model.joblib / model.pkl / model.pickle file (restricted: nothing is executed). */
export async function readJoblibFile(path: string): Promise<PyValue> {
  const bytes = await readFile(path);
  return readJoblibBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
