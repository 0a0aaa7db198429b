import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectTreeModelFormat, TreeModel } from '@servekit/xgboost';
import { sessionOptionsFromFlags } from '../session-flags.js';
import type { ModelFormatHandler } from './format.js';

/** XGBoost files in order of preference when a folder holds several saves of the same booster. */
const XGB_FILES = ['model.json', 'model.ubj', 'model.bst'];

function treeFile(dir: string, files: string[], library: 'xgboost' | 'lightgbm'): string[] {
  const names = library === 'xgboost' ? XGB_FILES : ['model.txt', 'model.bst'];
  return files.filter((f) => {
    if (!names.includes(f)) return false;
    // model.bst is XGBoost's legacy binary or LightGBM text (KServe's lgbserver name): look inside.
    const format = detectTreeModelFormat(readFileSync(join(dir, f)), f);
    return library === 'lightgbm' ? format === 'lightgbm-text' : format !== undefined && format !== 'lightgbm-text';
  });
}

function handler(library: 'xgboost' | 'lightgbm'): ModelFormatHandler {
  return {
    name: library,
    candidates: (dir, files) => treeFile(dir, files, library),
    create: (name, dir, flags) => {
      const present = readdirSync(dir);
      const [file] = treeFile(
        dir,
        (library === 'xgboost' ? XGB_FILES : ['model.txt', 'model.bst']).filter((f) => present.includes(f)),
        library,
      );
      return [
        {
          model: new TreeModel(name, {
            path: join(dir, file ?? 'model.bst'),
            predictProba: flags.predict_proba === true,
            sessionOptions: sessionOptionsFromFlags(flags),
          }),
        },
      ];
    },
  };
}

/** `model.bst|.json|.ubj`: XGBoost (JSON, UBJSON, legacy binary), converted to an ONNX tree ensemble. */
export const xgboostFormat = handler('xgboost');

/** `model.txt` (or a `model.bst` holding LightGBM text): LightGBM, converted to an ONNX tree ensemble. */
export const lightgbmFormat = handler('lightgbm');
