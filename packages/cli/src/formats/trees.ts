import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// Detection reads a file's first bytes with the light `detect` entry; the converter package is imported only to
// build a model of this format.
import { detectTreeModelFormat } from '@servekit/xgboost/detect';
import { sessionOptionsFromFlags } from '../session-flags.js';
import type { ModelFormatHandler } from './format.js';
import { loadBudgetFromFlags } from './load-budget.js';

type Library = 'xgboost' | 'lightgbm' | 'catboost';

/** Files each library's models go by, in order of preference when a folder holds several saves of one model. */
const FILES: Record<Library, string[]> = {
  xgboost: ['model.json', 'model.ubj', 'model.bst'],
  lightgbm: ['model.txt', 'model.bst'],
  catboost: ['model.json', 'model.cbm'],
};

function treeFile(dir: string, files: string[], library: Library): string[] {
  return files.filter((f) => {
    if (!FILES[library].includes(f)) return false;
    // model.bst is XGBoost's legacy binary or LightGBM text (KServe's lgbserver name), model.json XGBoost's or
    // CatBoost's JSON: look inside.
    const format = detectTreeModelFormat(readFileSync(join(dir, f)), f);
    return format?.startsWith(`${library}-`) === true;
  });
}

function handler(library: Library): ModelFormatHandler {
  return {
    name: library,
    candidates: (dir, files) => treeFile(dir, files, library),
    create: async (name, dir, flags) => {
      const { TreeModel } = await import('@servekit/xgboost');
      const present = readdirSync(dir);
      const [file] = treeFile(
        dir,
        FILES[library].filter((f) => present.includes(f)),
        library,
      );
      return [
        {
          model: new TreeModel(name, {
            path: join(dir, file ?? FILES[library][0]!),
            predictProba: flags.predict_proba === true,
            sessionOptions: sessionOptionsFromFlags(flags),
            // Parsing and conversion run in a worker with these budgets; the server keeps serving meanwhile.
            ...loadBudgetFromFlags(flags),
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

/** `model.json` holding a CatBoost JSON model, or a binary `model.cbm`: an ONNX tree ensemble. */
export const catboostFormat = handler('catboost');
