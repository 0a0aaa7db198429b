/** Reads exact byte counts from an async stream of chunks (for sequential formats such as tar). */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes, fewer only at the end of the stream (empty when nothing is left). */
  async read(n: number): Promise<Buffer> {
    while (this.pending.length < n && !this.ended) await this.pull();
    const out = this.pending.subarray(0, Math.min(n, this.pending.length));
    this.pending = this.pending.subarray(out.length);
    return out;
  }

  /** The next `n` bytes as chunks, without buffering them all; throws `onShort()` if the stream ends early. */
  async *take(n: number, onShort: () => Error): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.pending.length === 0) {
        if (this.ended) throw onShort();
        await this.pull();
        continue;
      }
      const piece = this.pending.subarray(0, Math.min(left, this.pending.length));
      this.pending = this.pending.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }

  /** Discard `n` bytes; throws `onShort()` if the stream ends early. */
  async skip(n: number, onShort: () => Error): Promise<void> {
    for await (const _ of this.take(n, onShort)) {
      // discarded
    }
  }

  /** Stop reading the source. */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }

  private async pull(): Promise<void> {
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }
}
