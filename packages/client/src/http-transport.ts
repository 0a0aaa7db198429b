import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { ClientError } from './errors.js';

/** Options of the keep-alive HTTP transport. */
export interface HttpTransportOptions {
  /** Reuse connections between calls. Default true. */
  keepAlive?: boolean;
  /** Most sockets open at once to the server. Default 64. */
  maxSockets?: number;
  /** https: the CA certificates (PEM) the server's certificate must chain to, instead of Node's bundled roots. */
  ca?: Buffer | string;
  /** https: client certificate chain (PEM), for a server that requires one (mutual TLS). */
  cert?: Buffer | string;
  /** https: the client certificate's private key (PEM). */
  key?: Buffer | string;
}

/** A buffered HTTP response. */
export interface HttpResponse {
  /** HTTP status. */
  status: number;
  /** Response headers (lower-case names). */
  headers: IncomingHttpHeaders;
  /** Whole response body. */
  body: Buffer;
}

/** One HTTP request. */
export interface HttpRequest {
  /** Method, e.g. GET or POST. */
  method: string;
  /** Path (and query) appended to the base URL's path. */
  path: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** Body parts, written in order without concatenating them. */
  body?: Uint8Array[];
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** node:http(s) requests to one base URL over a keep-alive agent; bodies are buffered. */
export class HttpTransport {
  private readonly base: URL;
  private readonly prefix: string;
  private readonly agent: http.Agent;
  private readonly mod: typeof http | typeof https;

  constructor(baseUrl: string, options: HttpTransportOptions = {}) {
    this.base = new URL(baseUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new Error(`baseUrl must be http:// or https://, got ${baseUrl}`);
    }
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.mod = this.base.protocol === 'https:' ? https : http;
    const agentOptions = { keepAlive: options.keepAlive ?? true, maxSockets: options.maxSockets ?? 64 };
    const { ca, cert, key } = options;
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({ ...agentOptions, ca, cert, key })
        : new http.Agent(agentOptions);
  }

  /** The full URL of a path, for messages. */
  url(path: string): string {
    return `${this.base.origin}${this.prefix}${path}`;
  }

  /** Send one request and buffer the response. Transport failures reject with the Node error. */
  send(req: HttpRequest): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const parts = req.body ?? [];
      let length = 0;
      for (const p of parts) length += p.byteLength;
      const headers: Record<string, string> = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = String(length);
      const outgoing = this.mod.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          path: `${this.prefix}${req.path}`,
          method: req.method,
          headers,
          agent: this.agent,
          signal: req.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            if (!res.complete) {
              reject(
                new ClientError(`Connection closed before the response from ${this.url(req.path)} ended.`, {
                  code: 'ECONNRESET',
                }),
              );
              return;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
        },
      );
      outgoing.on('error', reject);
      for (const p of parts) outgoing.write(p);
      outgoing.end();
    });
  }

  /** Close every pooled connection. */
  close(): void {
    this.agent.destroy();
  }
}
