// Hostile pickles built byte by byte, shared by the unpickler tests and the CLI's server-level tests.

/** A pickle from opcode bytes, latin-1 strings and buffers. */
export function pickleOf(...parts: (number | string | number[] | Uint8Array)[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(Buffer.of(p));
    else if (typeof p === 'string') out.push(Buffer.from(p, 'latin1'));
    else out.push(Buffer.from(p));
  }
  return Buffer.concat(out);
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** `LONG4` holding an `n`-byte integer (protocol 2), then STOP. */
export function long4Pickle(n: number, fill = 0x7f): Buffer {
  return pickleOf(0x80, 2, 0x8b, u32(n), Buffer.alloc(n, fill), 0x2e);
}

/**
 * A valid but slow pickle: numpy `_frombuffer` of 2^log2 uint8 in Fortran order over `log2` dimensions of 2,
 * which the unpickler reorders element by element (a few seconds for log2 = 23). Nothing in it is refused.
 */
export function slowPickle(log2 = 23): Buffer {
  const n = 2 ** log2;
  return pickleOf(
    '\x80\x02cnumpy.core.numeric\n_frombuffer\n(B',
    u32(n),
    Buffer.alloc(n, 7),
    'cnumpy\ndtype\nX\x02\x00\x00\x00u1\x85R(',
    'K\x02'.repeat(log2),
    'tX\x01\x00\x00\x00FtR.',
  );
}
