// Typed arrays whose whole buffer belongs to one inference alone (a batch merged by `concatTensors`): a session that
// hands its inputs to another thread may transfer such a buffer instead of copying it, since nothing reads it after.

const owned = new WeakSet<ArrayBufferLike>();

/** Mark `data`'s buffer as owned by the one inference it feeds (only when `data` spans the whole buffer). */
export function markOwnedBuffer(data: ArrayBufferView): void {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) owned.add(data.buffer);
}

/**
 * Whether `data` spans a buffer marked by `markOwnedBuffer`; a true answer consumes the mark, so a buffer is given
 * away (transferred) at most once.
 */
export function takeOwnedBuffer(data: ArrayBufferView): boolean {
  if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) return false;
  return owned.delete(data.buffer);
}
