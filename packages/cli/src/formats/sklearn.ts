import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sessionOptionsFromFlags } from '../session-flags.js';
import type { ModelFormatHandler } from './format.js';

const FILES = ['model.joblib', 'model.pkl', 'model.pickle'];

/** `model.joblib|.pkl|.pickle`: scikit-learn, read by servekit's safe unpickler and converted to ONNX. */
export const sklearnFormat: ModelFormatHandler = {
  name: 'sklearn',
  candidates: (_dir, files) => files.filter((f) => FILES.includes(f)),
  create: async (name, dir, flags) => {
    const { SklearnModel } = await import('@servekit/sklearn');
    const present = FILES.filter((f) => existsSync(join(dir, f)));
    if (present.length > 1) {
      // As KServe's sklearnserver: which one is meant is a guess, so refuse.
      throw new Error(`${dir} holds several scikit-learn model files (${present.join(', ')}); keep one`);
    }
    const file = present[0] ?? FILES[0]!;
    const options = {
      path: join(dir, file),
      predictProba: flags.predict_proba === true,
      ...(typeof flags.sklearn_method === 'string' ? { method: flags.sklearn_method } : {}),
      sessionOptions: sessionOptionsFromFlags(flags),
    };
    return [{ model: new SklearnModel(name, options) }];
  },
};
