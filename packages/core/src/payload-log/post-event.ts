import http from 'node:http';
import https from 'node:https';

/** The receiver did not answer within the timeout. */
export class ReceiverTimeout extends Error {}

/** Codes of connection errors worth another try (the receiver is restarting, a kept-alive socket went stale). */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** True for connection errors and timeouts: the POST may succeed if tried again. */
export function isConnectionError(err: unknown): boolean {
  return err instanceof ReceiverTimeout || RETRYABLE_CODES.has((err as { code?: string })?.code ?? '');
}

/** A keep-alive agent for `url` holding at most `sockets` connections. */
export function receiverAgent(url: URL, sockets: number): http.Agent {
  const options = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

/**
 * POST `body` with `headers` to `url` over `agent`; resolves with the status once the answer is read (so the socket
 * is reused). `track` hears when the request goes on the wire and when it closes, so a caller can cut it; no answer within `timeoutMs` → ReceiverTimeout.
 */
export function postEvent(
  url: URL,
  agent: http.Agent,
  headers: Record<string, string>,
  body: Uint8Array | string,
  timeoutMs: number,
  track: (req: http.ClientRequest, onWire: boolean) => void,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const send = url.protocol === 'https:' ? https.request : http.request;
    const req = send(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new ReceiverTimeout(`no answer from the log receiver in ${timeoutMs} ms`)),
    );
    req.once('error', reject);
    req.once('close', () => track(req, false));
    track(req, true);
    req.end(body);
  });
}
