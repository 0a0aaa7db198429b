/** MurmurHash3 x86 32-bit (Austin Appleby's reference), as scikit-learn's murmurhash3_32 on UTF-8 bytes. */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/** The signed 32-bit MurmurHash3 of `bytes` with `seed` (sklearn's murmurhash3_32(key, seed, positive=False)). */
export function murmurhash3(bytes: Uint8Array, seed = 0): number {
  let h = seed | 0;
  const n = bytes.length;
  const blocks = n >>> 2;
  for (let i = 0; i < blocks; i++) {
    const o = i * 4;
    let k = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
    k = Math.imul(rotl(Math.imul(k, C1), 15), C2);
    h = rotl(h ^ k, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rem = n & 3;
  if (rem > 0) {
    let k = bytes[tail]!;
    if (rem >= 2) k ^= bytes[tail + 1]! << 8;
    if (rem === 3) k ^= bytes[tail + 2]! << 16;
    h ^= Math.imul(rotl(Math.imul(k, C1), 15), C2);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

const encoder = new TextEncoder();

/** FeatureHasher's column and sign of one string feature: |h| mod n (h = −2³¹ handled as scikit-learn does). */
export function hashedColumn(term: string, nFeatures: number): { column: number; sign: 1 | -1 } {
  const h = murmurhash3(encoder.encode(term));
  const column = h === -2147483648 ? (2147483647 - (nFeatures - 1)) % nFeatures : Math.abs(h) % nFeatures;
  return { column, sign: h >= 0 ? 1 : -1 };
}
