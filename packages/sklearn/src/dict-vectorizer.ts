/** DictVectorizer.transform in TypeScript (onnxruntime cannot take map inputs), exactly as scikit-learn does it. */
import { InvalidInput } from '@servekit/core';

/** Turns dict rows into a dense float64 matrix [rows, featureNames.length]. */
export class DictVectorizer {
  private readonly index: Map<string, number>;

  constructor(
    /** feature_names_ in column order. */
    readonly featureNames: string[],
    /** vocabulary_: feature name → column. */
    vocabulary: Map<string, number>,
    /** separator between key and string value (sklearn default '='). */
    readonly separator = '=',
    /** Round each value to float32 (DictVectorizer(dtype=np.float32)). */
    readonly float32 = false,
  ) {
    this.index = vocabulary;
  }

  /** Vectorize rows: string values one-hot as `key=value`, numbers and booleans as-is, null → NaN, lists of strings one-hot each; unknown features and missing keys → 0. */
  vectorize(rows: readonly unknown[]): Float64Array {
    const width = this.featureNames.length;
    const out = new Float64Array(rows.length * width);
    rows.forEach((row, r) => {
      if (typeof row !== 'object' || row === null || Array.isArray(row)) {
        throw new InvalidInput(
          `instance ${r} must be an object mapping feature names to values (DictVectorizer input)`,
        );
      }
      const base = r * width;
      for (const [key, value] of Object.entries(row as Record<string, unknown>)) {
        if (typeof value === 'string') this.add(out, base, `${key}${this.separator}${value}`, 1);
        else if (typeof value === 'number') this.add(out, base, key, value);
        else if (typeof value === 'boolean') this.add(out, base, key, value ? 1 : 0);
        else if (value === null) this.add(out, base, key, Number.NaN);
        else if (Array.isArray(value)) {
          for (const item of value) {
            if (typeof item !== 'string') {
              throw new InvalidInput(
                `instance ${r}, feature '${key}': list values must hold strings only (got ${typeof item})`,
              );
            }
            this.add(out, base, `${key}${this.separator}${item}`, 1);
          }
        } else {
          throw new InvalidInput(`instance ${r}, feature '${key}': unsupported value type ${typeof value}`);
        }
      }
    });
    return out;
  }

  private add(out: Float64Array, base: number, name: string, v: number): void {
    const i = this.index.get(name);
    if (i !== undefined) out[base + i]! += this.float32 ? Math.fround(v) : v;
  }
}
