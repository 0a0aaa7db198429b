// A CloudEvents receiver on loopback for payload-logging tests: every POST is parsed by the `cloudevents` SDK's
// `HTTP.toEvent` (binary mode) and validated; the raw headers and body bytes are kept for byte-for-byte checks.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CloudEvent, HTTP } from 'cloudevents';

/** One event as received. */
export interface ReceivedEvent {
  /** The POST's headers (lower-case names). */
  headers: IncomingHttpHeaders;
  /** The POST's body bytes. */
  body: Buffer;
  /** The event as the cloudevents SDK parsed it. */
  event: CloudEvent<unknown>;
}

/** A loopback HTTP server receiving payload-log events. */
export class LogReceiver {
  /** Events answered 2xx, in arrival order. */
  readonly events: ReceivedEvent[] = [];
  /** POSTs received (every attempt, answered or not). */
  attempts = 0;
  /** Status codes to answer the next POSTs with, one each (then 200). */
  readonly statuses: number[] = [];
  /** When set, every POST waits for this promise before it is answered. */
  hold?: Promise<void>;
  private readonly server: Server;
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        this.attempts++;
        if (this.hold) await this.hold;
        const status = this.statuses.shift() ?? 200;
        if (status < 300) {
          const body = Buffer.concat(chunks);
          // The SDK parses JSON data from text (as a web framework hands it over); other bodies stay bytes.
          const json = /json/.test(req.headers['content-type'] ?? '');
          const event = HTTP.toEvent({
            headers: req.headers,
            body: json ? body.toString('utf8') : body,
          }) as CloudEvent<unknown>;
          event.validate();
          this.events.push({ headers: req.headers, body, event });
          for (const w of this.waiters.filter((w) => this.events.length >= w.n)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve();
          }
        }
        res.writeHead(status).end();
      });
    });
  }

  /** Listen on a free loopback port; resolves with the URL to log to. */
  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
  }

  /** Resolves once `n` events have been received. */
  received(n: number): Promise<ReceivedEvent[]> {
    if (this.events.length >= n) return Promise.resolve(this.events);
    return new Promise((resolve) => this.waiters.push({ n, resolve: () => resolve(this.events) }));
  }

  /** The received event of type `request` or `response` with ce-id `id`. */
  find(id: string, kind: 'request' | 'response'): ReceivedEvent {
    const type = `org.kubeflow.serving.inference.${kind}`;
    const found = this.events.find((e) => e.event.id === id && e.event.type === type);
    if (!found) throw new Error(`no ${kind} event with id ${id}`);
    return found;
  }

  /** Stop listening and close open connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A loopback URL nothing listens on (connections are refused). */
export async function refusedUrl(): Promise<string> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return `http://127.0.0.1:${port}/events`;
}
