import { describe, expect, it } from 'vitest';
import { PendingCalls } from '../src/pending-calls.js';

describe('PendingCalls', () => {
  it('gives each pending value back once, by id, in any order', () => {
    const calls = new PendingCalls<string>(4);
    for (let id = 0; id < 3; id++) calls.add(id, `v${id}`);
    expect(calls.take(1)).toBe('v1');
    expect(calls.take(1)).toBeUndefined();
    expect(calls.take(2)).toBe('v2');
    expect(calls.take(0)).toBe('v0');
    expect(calls.takeAll()).toEqual([]);
  });

  it('answers undefined for an id that shares a slot with a pending one', () => {
    const calls = new PendingCalls<string>(4);
    calls.add(1, 'one');
    expect(calls.take(5)).toBeUndefined();
    expect(calls.take(1)).toBe('one');
  });

  it('grows when more calls are pending than it has slots, keeping every one', () => {
    const calls = new PendingCalls<number>(2);
    for (let id = 0; id < 100; id++) calls.add(id, id * 10);
    for (let id = 99; id >= 0; id--) expect(calls.take(id)).toBe(id * 10);
    expect(calls.takeAll()).toEqual([]);
  });

  it('grows past a clash between an old pending id and a new one (a long call among many short ones)', () => {
    const calls = new PendingCalls<string>(4);
    calls.add(0, 'load');
    // Ids 1…1000 come and go while id 0 stays pending; 4, 8, 16… land on its slot and force growth.
    for (let id = 1; id <= 1000; id++) {
      calls.add(id, `run${id}`);
      expect(calls.take(id)).toBe(`run${id}`);
    }
    calls.add(1001, 'last');
    expect(calls.takeAll().sort()).toEqual(['last', 'load']);
    expect(calls.take(0)).toBeUndefined();
  });
});
