import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

/** How long a keep-alive connection must have been idle (nothing read) before a drain closes it. */
export const IDLE_CLOSE_MS = 1000;

interface Connection {
  socket: Socket;
  /** Neighbours in the tracker's list of open connections. */
  prev: Connection | undefined;
  next: Connection | undefined;
  /** Requests on this connection not answered yet. */
  active: number;
  /** When the last response finished (or the connection opened). */
  idleSince: number;
  /** `socket.bytesRead` then: more bytes read since means a request is arriving. */
  readAtIdle: number;
}

/** Where a socket keeps its connection's bookkeeping (no map lookup, no closure per request). */
const CONNECTION = Symbol('servekit.httpDrainConnection');

type TrackedSocket = Socket & { [CONNECTION]?: Connection };

/** A response closed (answered or cut): one request fewer on its connection. Shared by every response (no closure). */
function onResponseClose(this: ServerResponse): void {
  const socket = this.req.socket as TrackedSocket;
  const conn = socket[CONNECTION];
  if (!conn) return;
  conn.active--;
  conn.idleSince = Date.now();
  conn.readAtIdle = socket.bytesRead;
}

/**
 * Tracks an HTTP server's connections so a graceful shutdown drops no request: `drain()` stops accepting new
 * connections without touching open ones, answers every further request with `Connection: close` (the client
 * reconnects elsewhere), lets requests in flight finish, and closes keep-alive connections only once they have been
 * idle (nothing received) for {@link IDLE_CLOSE_MS}. Node's own `server.close()` closes idle connections at once,
 * resetting those whose next request is already on the wire.
 */
export class HttpDrain {
  /**
   * Open connections as a list linked through the connections themselves, not a Map or Set: a Map with a `set` and a
   * `delete` per connection keeps its replaced hash tables, which in the old generation still point at the sockets
   * they held, so clients that connect per request had each request's objects promoted (`bench/v8-retention.mjs`).
   */
  private first: Connection | undefined;
  private open = 0;
  private closing = false;

  constructor(private readonly server: Server) {
    // Over TLS, requests arrive on the TLS socket of each connection, not on its TCP socket.
    server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: TrackedSocket) => {
      const conn: Connection = {
        socket,
        prev: undefined,
        next: this.first,
        active: 0,
        idleSince: Date.now(),
        readAtIdle: 0,
      };
      if (this.first) this.first.prev = conn;
      this.first = conn;
      this.open++;
      socket[CONNECTION] = conn;
      socket.once('close', () => this.forget(conn));
    });
    // Before the framework's listener, so the header is set before any response can start.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      const conn = (req.socket as TrackedSocket)[CONNECTION];
      if (this.closing) res.setHeader('connection', 'close');
      if (!conn) return;
      conn.active++;
      // One shared listener (a response closes once): no closure, no once-wrapper per request.
      res.on('close', onResponseClose);
    });
  }

  /** Open connections now. */
  get openConnections(): number {
    return this.open;
  }

  /** Unlink a closed connection (its links cleared: nothing dead points at a live connection). */
  private forget(conn: Connection): void {
    if (conn.prev) conn.prev.next = conn.next;
    else this.first = conn.next;
    if (conn.next) conn.next.prev = conn.prev;
    conn.prev = undefined;
    conn.next = undefined;
    this.open--;
  }

  /**
   * Stop accepting connections, then resolve once every open connection has closed: each after the response to
   * its next request (`Connection: close`), or once idle. Connections still open at `deadline` (epoch ms) are cut.
   */
  async drain(deadline: number): Promise<void> {
    this.closing = true;
    // net.Server's close: stop listening only (http.Server's would also cut idle keep-alive connections).
    if (this.server.listening) NetServer.prototype.close.call(this.server);
    while (this.open > 0) {
      const now = Date.now();
      // A socket closes asynchronously ('close' comes later), so the list does not change under this walk.
      for (let conn = this.first; conn; conn = conn.next) {
        const socket = conn.socket;
        if (socket.bytesRead !== conn.readAtIdle) {
          // Bytes arrived (a request starting, or the rest of a body answered early): not idle from here.
          conn.readAtIdle = socket.bytesRead;
          conn.idleSince = now;
        }
        const idleFor = conn.active === 0 ? now - conn.idleSince : 0;
        // Idle: say goodbye (FIN); a peer that does not close its side in turn is cut a while later.
        if (now >= deadline || (socket.writableEnded && idleFor >= 2 * IDLE_CLOSE_MS)) socket.destroy();
        else if (idleFor >= IDLE_CLOSE_MS && !socket.writableEnded) socket.end();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
