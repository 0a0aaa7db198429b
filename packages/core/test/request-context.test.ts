// makeContext: own properties in the object literal's order, lazy signal and request id (each made once, on first
// read), and a spread copy (`{ ...ctx }`, a transformer hop) that carries their values.
import { describe, expect, it } from 'vitest';
import { makeContext } from '../src/protocols/context.js';

describe('makeContext', () => {
  it('has the own enumerable properties of the former object literal, in its order', () => {
    const ctx = makeContext({ 'x-request-timeout': '2' }, 'v2', new AbortController().signal, 'body-id');
    expect(Object.keys(ctx)).toEqual(['headers', 'protocol', 'requestId', 'deadline', 'span', 'signal']);
    expect(ctx.protocol).toBe('v2');
    expect(ctx.requestId).toBe('body-id');
    expect(typeof ctx.deadline).toBe('number');
    expect(ctx.span).toBeUndefined();
  });

  it('makes the signal on first read only, once', () => {
    let made = 0;
    const controller = new AbortController();
    const ctx = makeContext({}, 'v1', () => {
      made++;
      return controller.signal;
    });
    expect(made).toBe(0);
    expect(ctx.signal).toBe(controller.signal);
    expect(ctx.signal).toBe(controller.signal);
    expect(made).toBe(1);
  });

  it('takes the x-request-id header before the body id, and draws one UUID otherwise', () => {
    const signal = new AbortController().signal;
    expect(makeContext({ 'x-request-id': 'h' }, 'v2', signal, 'b').requestId).toBe('h');
    expect(makeContext({ 'x-request-id': '' }, 'v2', signal, 'b').requestId).toBe('b');
    const ctx = makeContext({}, 'v2', signal);
    expect(ctx.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ctx.requestId).toBe(ctx.requestId);
    expect(makeContext({}, 'v2', signal).requestId).not.toBe(ctx.requestId);
  });

  it('spreads into a plain copy carrying the id and the signal (made by the spread when not yet read)', () => {
    let made = 0;
    const controller = new AbortController();
    const ctx = makeContext({ a: 'b' }, 'grpc-v2', () => {
      made++;
      return controller.signal;
    });
    const copy = { ...ctx, protocol: 'v1' as const };
    expect(made).toBe(1);
    expect(copy.signal).toBe(controller.signal);
    expect(copy.requestId).toBe(ctx.requestId);
    expect(copy.headers).toEqual({ a: 'b' });
    expect(copy.protocol).toBe('v1');
    expect(Object.getOwnPropertyDescriptor(copy, 'requestId')?.value).toBe(ctx.requestId);
    expect(ctx.signal).toBe(controller.signal);
    expect(made).toBe(1);
  });
});
