import { describe, expect, it } from 'vitest';
import { CallSignal } from '../src/call-signal.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CallSignal', () => {
  it('aborts on its timeout with a TimeoutError and says it timed out', async () => {
    const s = new CallSignal(20);
    expect(s.signal.aborted).toBe(false);
    await tick(60);
    expect(s.signal.aborted).toBe(true);
    expect(s.timedOut).toBe(true);
    expect((s.signal.reason as DOMException).name).toBe('TimeoutError');
    s.done();
  });

  it("aborts with the caller's reason when the caller's signal aborts, not as a timeout", () => {
    const outer = new AbortController();
    const s = new CallSignal(10_000, outer.signal);
    outer.abort(new Error('client went away'));
    expect(s.signal.aborted).toBe(true);
    expect(s.timedOut).toBe(false);
    expect((s.signal.reason as Error).message).toBe('client went away');
    s.done();
  });

  it("starts aborted when the caller's signal already is", () => {
    const outer = new AbortController();
    outer.abort();
    const s = new CallSignal(10_000, outer.signal);
    expect(s.signal.aborted).toBe(true);
    s.done();
  });

  it("after done(), neither its timer nor the caller's signal aborts it (nothing left behind)", async () => {
    const outer = new AbortController();
    const s = new CallSignal(20, outer.signal);
    s.done();
    s.done();
    await tick(60);
    outer.abort();
    expect(s.signal.aborted).toBe(false);
    expect(s.timedOut).toBe(false);
  });
});
