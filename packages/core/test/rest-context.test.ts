// The REST request context makes its abort signal (an AbortController and a 'close' listener) only when something
// reads `ctx.signal`; it is aborted when the client went away before the answer, at once if already gone by then.
import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { restContext } from '../src/protocols/rest-helpers.js';

/** A stand-in for fastify's reply.raw: an emitter with the two fields restContext reads. */
class FakeResponse extends EventEmitter {
  destroyed = false;
  writableFinished = false;
}
const contextOf = (res: FakeResponse) =>
  restContext({ headers: {} } as FastifyRequest, { raw: res } as unknown as FastifyReply, 'v2');

describe('restContext', () => {
  it('listens for the close only once the signal is read', () => {
    const res = new FakeResponse();
    const ctx = contextOf(res);
    expect(res.listenerCount('close')).toBe(0);
    const signal = ctx.signal;
    expect(res.listenerCount('close')).toBe(1);
    expect(ctx.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    res.emit('close');
    expect(signal.aborted).toBe(true);
  });

  it('is not aborted by the close that follows a finished answer', () => {
    const res = new FakeResponse();
    const signal = contextOf(res).signal;
    res.writableFinished = true;
    res.emit('close');
    expect(signal.aborted).toBe(false);
  });

  it('is aborted at once when the client had already gone before the signal was read', () => {
    const res = new FakeResponse();
    const ctx = contextOf(res);
    res.destroyed = true;
    expect(ctx.signal.aborted).toBe(true);
  });

  it('answers clientGone from the response state, without a listener or a signal', () => {
    const res = new FakeResponse();
    const ctx = contextOf(res);
    expect(ctx.clientGone?.()).toBe(false);
    res.destroyed = true;
    expect(ctx.clientGone?.()).toBe(true);
    res.writableFinished = true; // closed after a finished answer: not gone early
    expect(ctx.clientGone?.()).toBe(false);
    expect(res.listenerCount('close')).toBe(0);
  });
});
