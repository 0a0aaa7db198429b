import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { GrpcCode, InvalidInput, ServekitError } from '../errors.js';
import { RequestTooLarge } from '../limits.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

/** The body's Content-Encoding is not one servekit inflates (HTTP 415). */
export class UnsupportedEncoding extends ServekitError {
  constructor(message: string) {
    super(message, 415, GrpcCode.INVALID_ARGUMENT);
  }
}

/** The codings of a Content-Encoding header, `identity` left out (empty: the body is as sent). */
function codings(header: string | string[] | undefined): string[] {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
}

/**
 * A request body as the handlers read it: inflated when `Content-Encoding` is gzip or deflate (what Triton's
 * clients send), never to more than `maxBytes` (RequestTooLarge, 413, as soon as the output passes it). Other
 * encodings → 415; a corrupt compressed body → 400. Inflation runs on the libuv pool, off the event loop.
 */
export async function inflateBody(
  body: Buffer,
  contentEncoding: string | string[] | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const list = codings(contentEncoding);
  if (list.length === 0) return body;
  if (list.length > 1 || !['gzip', 'x-gzip', 'deflate'].includes(list[0]!)) {
    throw new UnsupportedEncoding(
      `Content-Encoding "${String(contentEncoding).slice(0, 60)}" is not supported: send gzip, deflate or identity.`,
    );
  }
  const coding = list[0]!;
  const options = { maxOutputLength: Math.max(1, maxBytes) };
  try {
    if (coding !== 'deflate') return await gunzip(body, options);
    // HTTP's "deflate" is the zlib format, but some clients send a raw deflate stream: accept both.
    return await inflate(body, options).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'Z_DATA_ERROR') return inflateRaw(body, options);
      throw err;
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') {
      throw new RequestTooLarge(
        `Request body inflates (${coding}) to more than the limit of ${maxBytes} bytes (--max_body_size).`,
      );
    }
    throw new InvalidInput(`Request body could not be inflated (Content-Encoding ${coding}): ${e.message}`);
  }
}
