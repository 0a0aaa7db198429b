/** Small dense float64 linear algebra for conversion-time constants (row-major square matrices). */

/** Row-major transpose of a [rows, cols] matrix: a new [cols, rows] array. */
export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

/** LU decomposition with partial pivoting: the packed factors, the row permutation sign, and whether it is singular. */
function lu(a: Float64Array, n: number): { m: Float64Array; perm: number[]; sign: number; singular: boolean } {
  const m = Float64Array.from(a);
  const perm = Array.from({ length: n }, (_, i) => i);
  let sign = 1;
  let singular = false;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[p * n + k]!)) p = i;
    if (m[p * n + k] === 0) {
      singular = true;
      continue;
    }
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = m[k * n + j]!;
        m[k * n + j] = m[p * n + j]!;
        m[p * n + j] = t;
      }
      [perm[k], perm[p]] = [perm[p]!, perm[k]!];
      sign = -sign;
    }
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / m[k * n + k]!;
      m[i * n + k] = f;
      for (let j = k + 1; j < n; j++) m[i * n + j]! -= f * m[k * n + j]!;
    }
  }
  return { m, perm, sign, singular };
}

/** Inverse of an n×n matrix (throws when singular). */
export function inverse(a: Float64Array, n: number): Float64Array {
  const { m, perm, singular } = lu(a, n);
  if (singular) throw new Error('singular matrix');
  const inv = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = perm[i] === c ? 1 : 0;
      for (let j = 0; j < i; j++) s -= m[i * n + j]! * y[j]!;
      y[i] = s;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let j = i + 1; j < n; j++) s -= m[i * n + j]! * inv[j * n + c]!;
      inv[i * n + c] = s / m[i * n + i]!;
    }
  }
  return inv;
}

/** log|det A| when det A > 0, else −∞ (sklearn's fast_logdet). */
export function logDetPositive(a: Float64Array, n: number): number {
  const { m, sign, singular } = lu(a, n);
  if (singular) return Number.NEGATIVE_INFINITY;
  let s = sign;
  let ld = 0;
  for (let i = 0; i < n; i++) {
    const d = m[i * n + i]!;
    if (d < 0) s = -s;
    ld += Math.log(Math.abs(d));
  }
  return s > 0 ? ld : Number.NEGATIVE_INFINITY;
}

/** A·Aᵀ for A [rows, cols] row-major → [rows, rows] (dot products of A's rows). */
export function rowGram(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * rows);
  for (let p = 0; p < rows; p++)
    for (let q = 0; q < rows; q++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += a[p * cols + j]! * a[q * cols + j]!;
      out[p * rows + q] = s;
    }
  return out;
}

/** Aᵀ·diag(w)·A for A [k, n] row-major → [n, n]. */
export function gram(a: Float64Array, k: number, n: number, w: Float64Array): Float64Array {
  const out = new Float64Array(n * n);
  for (let r = 0; r < k; r++) {
    for (let i = 0; i < n; i++) {
      const ai = a[r * n + i]! * w[r]!;
      for (let j = 0; j < n; j++) out[i * n + j]! += ai * a[r * n + j]!;
    }
  }
  return out;
}
