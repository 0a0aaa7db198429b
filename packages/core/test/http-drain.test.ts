// HttpDrain's bookkeeping of open connections on a real node:http server over loopback sockets: connections that
// close (first, middle, last of its list) are forgotten; a drain lets the request in flight finish, answers a further
// request with `Connection: close`, and resolves once every connection has closed.
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpDrain } from '../src/server/http-drain.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server answering every request after `delayMs` (0: at once), with its drain tracker. */
async function serve(delayMs = 0): Promise<{ server: Server; drain: HttpDrain; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('ok'), delayMs));
  });
  const drain = new HttpDrain(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { server, drain, port: (server.address() as { port: number }).port };
}

/** A keep-alive connection that has had one answer (so the server has seen it). */
async function opened(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  await request(socket);
  return socket;
}

/** One GET on `socket`; resolves with the raw answer (its headers and body). */
function request(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d;
      if (text.endsWith('ok')) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

/** Resolve once `socket` has closed. */
function closed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Resolve once `check()` holds (polled; the server sees a client's close a moment after it). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}

describe('HttpDrain', () => {
  it('forgets connections as they close, whichever place they hold in its list', async () => {
    const { drain, port } = await serve();
    const sockets: Socket[] = [];
    for (let i = 0; i < 5; i++) sockets.push(await opened(port));
    expect(drain.openConnections).toBe(5);
    // The newest is first in the list, the oldest last: close the middle, then both ends.
    for (const [i, left] of [
      [2, 4],
      [4, 3],
      [0, 2],
    ] as const) {
      sockets[i]!.destroy();
      await until(() => drain.openConnections === left);
    }
    // The two left still serve, and a new one joins.
    expect(await request(sockets[1]!)).toContain('200 OK');
    expect(await request(sockets[3]!)).toContain('200 OK');
    await opened(port);
    expect(drain.openConnections).toBe(3);
  });

  it('drains: the request in flight is answered, a further one gets Connection: close, then it resolves', async () => {
    const { drain, port } = await serve(200);
    const busy = connect(port, '127.0.0.1');
    cleanups.push(() => busy.destroy());
    const other = await opened(port);
    await until(() => drain.openConnections === 2);
    const inFlight = request(busy);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the request is in the server's hands
    const drained = drain.drain(Date.now() + 10_000);
    expect(await inFlight).toContain('200 OK');
    expect(await request(other)).toMatch(/connection: close/i);
    await Promise.all([closed(busy), closed(other), drained]);
    expect(drain.openConnections).toBe(0);
  });
});
