/** FeatureHasher as a model's front end: its options, read and checked (the hashing itself runs in the request encoder). */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { bool, get, num } from './state.js';
import { requireFloat64Output } from './text.js';

/** What a fitted FeatureHasher does to each sample. */
export interface FeatureHasherSpec {
  nFeatures: number;
  /** How samples come: {name: value} dicts, [name, value] pairs, or lists of names (each counted 1). */
  inputType: 'dict' | 'pair' | 'string';
  alternateSign: boolean;
}

/** Read and check a FeatureHasher (float64 output only). */
export function featureHasherSpec(est: PyObject): FeatureHasherSpec {
  const nFeatures = num(est, 'n_features', 2 ** 20);
  if (!(Number.isInteger(nFeatures) && nFeatures >= 1))
    throw new UnsupportedEstimatorError(`FeatureHasher n_features=${nFeatures} is not a positive integer`);
  const inputType = get(est, 'input_type') ?? 'dict';
  if (inputType !== 'dict' && inputType !== 'pair' && inputType !== 'string')
    throw new UnsupportedEstimatorError(`FeatureHasher input_type=${JSON.stringify(inputType)} is not supported`);
  requireFloat64Output(est, 'FeatureHasher');
  return { nFeatures, inputType, alternateSign: bool(est, 'alternate_sign', true) };
}
