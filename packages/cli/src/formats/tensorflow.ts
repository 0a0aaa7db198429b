import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sessionOptionsFromFlags } from '../session-flags.js';
import type { ModelFormatHandler } from './format.js';

/** `saved_model.pb`, bare or in numeric version folders (TF Serving's layout): TensorFlow SavedModel. */
export const tensorflowFormat: ModelFormatHandler = {
  name: 'tensorflow',
  candidates: (dir, files) =>
    files.filter((f) => f === 'saved_model.pb' || (/^\d+$/.test(f) && existsSync(join(dir, f, 'saved_model.pb')))),
  // Imported on use: tfjs is large, and servers of other formats should not pay for loading it.
  // The engine serving each signature, and why, is logged to `ctx.logger` (the server's, in `servekit serve`).
  create: async (name, dir, flags, ctx) => {
    const tf = await import('@servekit/tf');
    const sessionOptions = sessionOptionsFromFlags(flags);
    const options = {
      backend: flags.tf_backend ?? 'wasm',
      engine: flags.tf_engine ?? 'auto',
      ...(sessionOptions === undefined ? {} : { sessionOptions }),
      ...(ctx?.logger === undefined ? {} : { logger: ctx.logger }),
    };
    return tf.tfModelsFromDir(name, dir, options);
  },
};
