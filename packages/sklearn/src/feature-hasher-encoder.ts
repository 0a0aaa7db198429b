/**
 * FeatureHasher.transform on request rows, in TypeScript: each (name, value) is hashed with MurmurHash3 to a column
 * (a string value v makes the name "name=v" with value 1; a value 0 is skipped), signs alternate when asked, and
 * repeated columns add up. V1 instances, by input_type:
 * - 'dict': `{"name": 1.5, "colour": "red"}`;
 * - 'pair': `[["name", 1.5], ["colour", "red"]]`;
 * - 'string': `["a", "b", "a"]` (each name counts 1).
 * Rows are dense float64 [rows, n_features], bounded by the decoded-bytes budget.
 */
import { checkDecodedBytes, DEFAULT_REQUEST_LIMITS, InvalidInput } from '@servekit/core';
import type { FeatureHasherSpec } from './convert/feature-hasher.js';
import { hashedColumn } from './convert/murmurhash3.js';

/** The (name, value) pairs of one sample, checked as scikit-learn's _hashing_transform checks them. */
function pairsOf(sample: unknown, inputType: FeatureHasherSpec['inputType'], r: number): [string, unknown][] {
  if (inputType === 'dict') {
    if (typeof sample !== 'object' || sample === null || Array.isArray(sample))
      throw new InvalidInput(`instance ${r} must be an object of feature names to values (input_type 'dict')`);
    return Object.entries(sample as Record<string, unknown>);
  }
  if (!Array.isArray(sample)) {
    throw new InvalidInput(
      inputType === 'pair'
        ? `instance ${r} must be a list of [name, value] pairs (input_type 'pair')`
        : `instance ${r} must be a list of feature names (input_type 'string'), not a single string`,
    );
  }
  if (inputType === 'string') {
    return sample.map((name, j) => {
      if (typeof name !== 'string') throw new InvalidInput(`instance ${r}, feature ${j}: names must be strings`);
      return [name, 1];
    });
  }
  return sample.map((pair, j) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string')
      throw new InvalidInput(`instance ${r}, pair ${j} must be [name, value] with a string name`);
    return [pair[0], pair[1]];
  });
}

/** Hashes request samples as a fitted FeatureHasher does. */
export class FeatureHasherEncoder {
  constructor(readonly spec: FeatureHasherSpec) {}

  /** Samples → float64 [rows, n_features]. */
  vectorize(rows: readonly unknown[]): Float64Array {
    const width = this.spec.nFeatures;
    checkDecodedBytes(rows.length * width * 8, DEFAULT_REQUEST_LIMITS, `${rows.length} samples × ${width} columns`);
    const out = new Float64Array(rows.length * width);
    rows.forEach((sample, r) => {
      for (const [name, raw] of pairsOf(sample, this.spec.inputType, r)) {
        let feature = name;
        let value: number;
        if (typeof raw === 'string') {
          feature = `${name}=${raw}`;
          value = 1;
        } else if (typeof raw === 'number') value = raw;
        else if (typeof raw === 'boolean') value = raw ? 1 : 0;
        else throw new InvalidInput(`instance ${r}, feature '${name}': the value must be a number or a string`);
        if (value === 0) continue;
        const { column, sign } = hashedColumn(feature, width);
        out[r * width + column]! += this.spec.alternateSign ? value * sign : value;
      }
    });
    return out;
  }
}
