import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelFormatHandler } from './format.js';

const FILES = ['model.joblib', 'model.pkl', 'model.pickle'];

/** `model.joblib|.pkl|.pickle`: scikit-learn, read by servekit's safe unpickler and converted to ONNX. */
export const sklearnFormat: ModelFormatHandler = {
  name: 'sklearn',
  candidates: (_dir, files) => files.filter((f) => FILES.includes(f)),
  create: async (name, dir, flags) => {
    const { SklearnModel } = await import('@servekit/sklearn');
    const file = FILES.find((f) => existsSync(join(dir, f))) ?? FILES[0]!;
    return [{ model: new SklearnModel(name, { path: join(dir, file), predictProba: flags.predict_proba === true }) }];
  },
};
