import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TfjsBackendName } from '@servekit/tf';
import type { ModelFormatHandler } from './format.js';

/** `saved_model.pb`, bare or in numeric version folders (TF Serving's layout): TensorFlow SavedModel. */
export const tensorflowFormat: ModelFormatHandler = {
  name: 'tensorflow',
  candidates: (dir, files) =>
    files.filter((f) => f === 'saved_model.pb' || (/^\d+$/.test(f) && existsSync(join(dir, f, 'saved_model.pb')))),
  // Imported on use: tfjs is large, and servers of other formats should not pay for loading it.
  create: async (name, dir, flags) => {
    const { tfModelsFromDir } = await import('@servekit/tf');
    return tfModelsFromDir(name, dir, { backend: (flags.tf_backend as TfjsBackendName) ?? 'wasm' });
  },
};
