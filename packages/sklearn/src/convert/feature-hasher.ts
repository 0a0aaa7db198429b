/** FeatureHasher as a model's front end: its options, read and checked (the hashing itself runs in the request encoder). */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { bool, get, num } from './state.js';

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
  const dtype = get(est, 'dtype');
  const dtypeName =
    typeof dtype === 'object' && dtype !== null && 'name' in dtype && typeof dtype.name === 'string'
      ? dtype.name
      : dtype === undefined || dtype === null
        ? 'float64'
        : String(dtype);
  if (dtypeName !== 'float64')
    throw new UnsupportedEstimatorError(`FeatureHasher with dtype=${dtypeName} is not supported (float64 only)`);
  return { nFeatures, inputType, alternateSign: bool(est, 'alternate_sign', true) };
}
