// Which tree-model format a file holds, from its first bytes: the only part of this package `servekit serve`
// needs to recognise a model folder (exported as `@servekit/xgboost/detect`, so detection loads no converter).
import { looksLikeCatBoostBinary, looksLikeCatBoostJson } from './catboost.js';
import { looksLikeLightGBMText } from './lightgbm-text.js';
import { looksLikeXgbBinary } from './xgboost-binary.js';

/** The on-disk formats servekit reads. */
export type TreeModelFormat =
  | 'xgboost-json'
  | 'xgboost-ubj'
  | 'xgboost-binary'
  | 'lightgbm-text'
  | 'catboost-json'
  | 'catboost-binary';

/** Guesses the format from the content (as XGBoost and LightGBM do), falling back to the file extension. */
export function detectTreeModelFormat(bytes: Uint8Array, fileName = ''): TreeModelFormat | undefined {
  const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
  let i = 0;
  while (i < bytes.length && i < 4096 && isSpace(bytes[i])) i++;
  if (looksLikeCatBoostBinary(bytes)) return 'catboost-binary';
  if (bytes[i] === 0x7b) {
    if (looksLikeCatBoostJson(bytes)) return 'catboost-json';
    // As XGBoost decides: after '{', a quote (or '}') means JSON text, a letter (a UBJSON length marker) UBJSON.
    let j = i + 1;
    while (j < bytes.length && isSpace(bytes[j])) j++;
    const next = bytes[j];
    if (i === 0 && next !== undefined && /[A-Za-z$#]/.test(String.fromCharCode(next))) return 'xgboost-ubj';
    return 'xgboost-json';
  }
  if (looksLikeLightGBMText(bytes)) return 'lightgbm-text';
  if (looksLikeXgbBinary(bytes)) return 'xgboost-binary';
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.json')) return 'xgboost-json';
  if (lower.endsWith('.ubj')) return 'xgboost-ubj';
  if (lower.endsWith('.txt')) return 'lightgbm-text';
  if (lower.endsWith('.cbm')) return 'catboost-binary';
  if (lower.endsWith('.bst') || lower.endsWith('.model') || lower.endsWith('.deprecated')) return 'xgboost-binary';
  return undefined;
}
