import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TfjsBackendName } from '@servekit/tf';
import type { TF_ENGINES } from '../flags.js';
import type { ModelFormatHandler } from './format.js';

/** `saved_model.pb`, bare or in numeric version folders (TF Serving's layout): TensorFlow SavedModel. */
export const tensorflowFormat: ModelFormatHandler = {
  name: 'tensorflow',
  candidates: (dir, files) =>
    files.filter((f) => f === 'saved_model.pb' || (/^\d+$/.test(f) && existsSync(join(dir, f, 'saved_model.pb')))),
  // Imported on use: tfjs is large, and servers of other formats should not pay for loading it.
  create: async (name, dir, flags) => {
    const tf = await import('@servekit/tf');
    const engine = ((flags.tf_engine as string | undefined) ?? 'auto') as (typeof TF_ENGINES)[number];
    if (engine === 'onnx' && !('convertSavedModelToOnnx' in tf)) {
      throw new Error('--tf_engine onnx: this @servekit/tf cannot lower SavedModels to ONNX; use tfjs or auto');
    }
    // `engine` is passed only when forced, so @servekit/tf picks by itself under `auto`.
    const options = {
      backend: ((flags.tf_backend as string | undefined) ?? 'wasm') as TfjsBackendName,
      ...(engine === 'auto' ? {} : { engine }),
    };
    return tf.tfModelsFromDir(name, dir, options);
  },
};
