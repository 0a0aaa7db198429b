/**
 * Calls posted to a worker thread and awaiting their reply, by call id: a power-of-two array of slots indexed by
 * `id & (length - 1)`, grown when a new id's slot is still taken. Not a `Map`: a Map with one `set` and one `delete`
 * per call rehashes every few calls, and its discarded tables (allocated in V8's old generation once the Map is old)
 * still pointed at the calls pending then, so every run's promise, and through it its requests, outlived the
 * young-generation collections until the next full GC (measured on the unbatched MLP: 0.9 KB per request promoted with
 * a Map, 0.3 KB with slots; the pattern alone: `bench/v8-retention.mjs`). A taken slot is cleared at once, and a grown
 * array's old one is emptied.
 */
export class PendingCalls<T> {
  private slots: ({ id: number; value: T } | undefined)[];

  /** `capacity`: slots to start with (rounded up to a power of two); the array doubles as calls pile up. */
  constructor(capacity = 64) {
    let n = 1;
    while (n < capacity) n *= 2;
    this.slots = new Array(n).fill(undefined);
  }

  /** Hold `value` for call `id` until `take(id)`; ids must be distinct among pending calls (a counter's). */
  add(id: number, value: T): void {
    while (this.slots[id & (this.slots.length - 1)] !== undefined) this.grow();
    this.slots[id & (this.slots.length - 1)] = { id, value };
  }

  /** The value held for `id`, now released; undefined when no call `id` is pending. */
  take(id: number): T | undefined {
    const i = id & (this.slots.length - 1);
    const slot = this.slots[i];
    if (slot === undefined || slot.id !== id) return undefined;
    this.slots[i] = undefined;
    return slot.value;
  }

  /** Every pending value, all released. */
  takeAll(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i];
      if (slot === undefined) continue;
      out.push(slot.value);
      this.slots[i] = undefined;
    }
    return out;
  }

  /** Double the slots until every pending call has its own (distinct ids part at some power of two). */
  private grow(): void {
    const old = this.slots;
    let size = old.length * 2;
    for (;;) {
      const next: ({ id: number; value: T } | undefined)[] = new Array(size).fill(undefined);
      let clash = false;
      for (const slot of old) {
        if (slot === undefined) continue;
        const i = slot.id & (size - 1);
        if (next[i] !== undefined) {
          clash = true;
          break;
        }
        next[i] = slot;
      }
      if (!clash) {
        this.slots = next;
        old.fill(undefined);
        return;
      }
      size *= 2;
    }
  }
}
