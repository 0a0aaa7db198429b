import { describe, expect, it } from 'vitest';
import { BatchSignal, batchContext } from '../src/batching/batch-signal.js';
import { Batcher } from '../src/batching/batcher.js';
import type { InferContext } from '../src/model/model.js';
import type { InferRequest, InferResponse, Payload, Result } from '../src/protocols/infer-types.js';

/** A request's abort controller whose signal counts the abort listeners added to it and still attached. */
function countedSignal(): { ac: AbortController; added: () => number; attached: () => number } {
  const ac = new AbortController();
  const signal = ac.signal;
  let added = 0;
  let attached = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    added++;
    attached++;
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    attached--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  return { ac, added: () => added, attached: () => attached };
}

function ctx(signal: AbortSignal): InferContext {
  return { headers: {}, protocol: 'v2', requestId: 'r', signal };
}

function request(v: number): InferRequest {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(v) }] };
}

/** A model that doubles `x`; it reads `ctx.signal` when `readSignal` is set, and answers when released. */
class Model {
  contexts: InferContext[] = [];
  readSignal = false;
  private waiting: Array<() => void> = [];
  run = async (payload: Payload, c: InferContext): Promise<Result> => {
    this.contexts.push(c);
    if (this.readSignal) void c.signal.aborted;
    await new Promise<void>((r) => this.waiting.push(r));
    const x = (payload as InferRequest).inputs[0]!;
    return {
      model_name: 'm',
      outputs: [{ ...x, name: 'y', data: (x.data as Float32Array).map((v) => v * 2) }],
    } satisfies InferResponse;
  };
  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }
  get pending(): number {
    return this.waiting.length;
  }
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
}

describe('BatchSignal (the abort signal of a merged batch)', () => {
  it('adds no listener to the members of a merged batch whose model never reads ctx.signal', async () => {
    const model = new Model();
    const b = new Batcher('m', model.run, {
      maxBatchSize: 3,
      maxLatencyMs: 1000,
      maxInflightBatches: 1,
      dispatchWhenIdle: false,
    });
    const members = [countedSignal(), countedSignal(), countedSignal()];
    const answers = members.map((m, i) => b.submit(request(i + 1), ctx(m.ac.signal)));
    await until(() => model.pending === 1);
    // One listener each while queued (to drop a request whose client leaves), none once the batch runs.
    expect(members.map((m) => m.added())).toEqual([1, 1, 1]);
    expect(members.map((m) => m.attached())).toEqual([0, 0, 0]);
    model.release();
    const out = (await Promise.all(answers)) as InferResponse[];
    expect(out.map((r) => Array.from(r.outputs[0]!.data as Float32Array))).toEqual([[2], [4], [6]]);
    expect(members.map((m) => m.attached())).toEqual([0, 0, 0]);
  });

  it('subscribes to the members when the model reads the signal, and unsubscribes when the batch ends', async () => {
    const model = new Model();
    model.readSignal = true;
    const b = new Batcher('m', model.run, {
      maxBatchSize: 2,
      maxLatencyMs: 1000,
      maxInflightBatches: 1,
      dispatchWhenIdle: false,
    });
    const members = [countedSignal(), countedSignal()];
    const answers = members.map((m, i) => b.submit(request(i + 1), ctx(m.ac.signal)));
    await until(() => model.pending === 1);
    expect(members.map((m) => m.attached())).toEqual([1, 1]);
    const signal = model.contexts[0]!.signal;
    members[0]!.ac.abort();
    expect(signal.aborted).toBe(false); // one member still waits
    members[1]!.ac.abort();
    expect(signal.aborted).toBe(true);
    model.release();
    await Promise.all(answers);
    expect(members.map((m) => m.attached())).toEqual([0, 0]);
  });

  it('is aborted at once when read after every member has gone, and keeps running for a live one', () => {
    const [a, b, c] = [new AbortController(), new AbortController(), new AbortController()];
    a.abort();
    b.abort();
    const gone = new BatchSignal([{ ctx: ctx(a.signal) }, { ctx: ctx(b.signal) }]);
    expect(gone.signal.aborted).toBe(true);
    const partly = new BatchSignal([{ ctx: ctx(a.signal) }, { ctx: ctx(c.signal) }]);
    expect(partly.signal.aborted).toBe(false);
    c.abort();
    expect(partly.signal.aborted).toBe(true);
  });

  it('makes a signal that is not subscribed when first read after the batch has ended', () => {
    const counted = countedSignal();
    const s = new BatchSignal([{ ctx: ctx(counted.ac.signal) }]);
    s.release();
    expect(s.signal.aborted).toBe(false);
    expect(counted.added()).toBe(0);
  });

  it("keeps the batch's signal and request id in a spread copy of its context (as a transformer makes)", () => {
    const member = new AbortController();
    const batch = new BatchSignal([{ ctx: ctx(member.signal) }]);
    const copy: InferContext = { ...batchContext(ctx(member.signal), batch, undefined) };
    expect(copy.requestId).toBe('r');
    expect(copy.signal).toBe(batch.signal);
    member.abort();
    expect(copy.signal.aborted).toBe(true);
    batch.release();
  });

  it('shares its getters between batches: no closures made per batch (an old-generation getter pair held members)', () => {
    const member = new AbortController();
    const one = batchContext(ctx(member.signal), new BatchSignal([{ ctx: ctx(member.signal) }]), undefined);
    const two = batchContext(ctx(member.signal), new BatchSignal([{ ctx: ctx(member.signal) }]), undefined);
    for (const key of ['requestId', 'signal']) {
      const a = Object.getOwnPropertyDescriptor(one, key);
      const b = Object.getOwnPropertyDescriptor(two, key);
      expect(a?.get).toBeTypeOf('function');
      expect(a?.enumerable).toBe(true);
      expect(a?.get).toBe(b?.get);
    }
    expect(Object.keys(one)).toEqual(['headers', 'protocol', 'deadline', 'span', 'requestId', 'signal']);
  });
});
