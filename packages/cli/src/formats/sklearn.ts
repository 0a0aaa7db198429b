import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sessionOptionsFromFlags } from '../session-flags.js';
import type { ModelFormatHandler } from './format.js';
import { loadBudgetFromFlags, positiveFlag } from './load-budget.js';

const FILES = ['model.joblib', 'model.pkl', 'model.pickle'];

/** `{ [key]: map(value) }`, or `{}` when the value is undefined (exactOptionalPropertyTypes). */
function withDefined<K extends string, V, R = V>(
  key: K,
  value: V | undefined,
  map: (v: V) => R = (v) => v as unknown as R,
): { [P in K]?: R } {
  return value === undefined ? {} : ({ [key]: map(value) } as { [P in K]?: R });
}

/** `model.joblib|.pkl|.pickle`: scikit-learn, read by servekit's safe unpickler and converted to ONNX. */
export const sklearnFormat: ModelFormatHandler = {
  name: 'sklearn',
  candidates: (_dir, files) => files.filter((f) => FILES.includes(f)),
  create: async (name, dir, flags) => {
    const { SklearnModel } = await import('@servekit/sklearn');
    const present = FILES.filter((f) => existsSync(join(dir, f)));
    if (present.length > 1) {
      // As KServe's sklearnserver: which one is meant is a guess, so refuse.
      throw new Error(`the model folder holds several scikit-learn model files (${present.join(', ')}); keep one`);
    }
    const file = present[0] ?? FILES[0]!;
    const options = {
      path: join(dir, file),
      predictProba: flags.predict_proba === true,
      ...(flags.sklearn_method === undefined ? {} : { method: flags.sklearn_method }),
      sessionOptions: sessionOptionsFromFlags(flags),
      execution: flags.session_execution,
      // Unpickling and conversion run in a worker with these budgets; the server keeps serving meanwhile.
      ...loadBudgetFromFlags(flags),
      ...withDefined('limits', positiveFlag(flags, 'model_max_bytes'), (maxBytes) => ({ maxBytes })),
      ...withDefined('maxOutputBytes', flags.max_decoded_bytes),
    };
    return [{ model: new SklearnModel(name, options) }];
  },
};
