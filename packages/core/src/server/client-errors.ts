import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** How long a socket answered with a client error may stay half-open for the peer to read the answer. */
const LINGER_MS = 5000;

/**
 * The HTTP server's `clientError` handler: a request Node could not take (headers over the size limit → 431, not
 * received within the request timeout → 408, malformed → 400) gets a JSON `{"error"}` answer with
 * `Connection: close`, and the connection is closed after it (never left open for a next request that would be
 * reset, never reset before the peer read the answer).
 */
export function clientErrorHandler(requestTimeoutMs: number): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    if (!socket.writable) return; // already answered; the peer is closing
    const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (started) {
      socket.destroy();
      return;
    }
    const [status, message] = describe(err.code, requestTimeoutMs);
    const body = JSON.stringify({ error: message });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}

function describe(code: string | undefined, requestTimeoutMs: number): [number, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [
        408,
        `The request was not received completely within ${requestTimeoutMs / 1000} s (--request_timeout_seconds).`,
      ];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request headers are larger than the server accepts.'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'Chunk extensions are larger than the server accepts.'];
    default:
      return [400, 'Malformed HTTP request.'];
  }
}
