import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineLogger, TfEngineChoice, TfjsBackendName } from '@servekit/tf';
import { sessionOptionsFromFlags } from '../session-flags.js';
import type { ModelFormatHandler } from './format.js';

let engineLogger: EngineLogger | undefined;

/**
 * Where TensorFlow models log the engine serving each signature and why (`servekit serve` passes its server's
 * logger). Process-wide: one `servekit serve` runs one server.
 */
export function setTensorflowLogger(logger: EngineLogger | undefined): void {
  engineLogger = logger;
}

/** `saved_model.pb`, bare or in numeric version folders (TF Serving's layout): TensorFlow SavedModel. */
export const tensorflowFormat: ModelFormatHandler = {
  name: 'tensorflow',
  candidates: (dir, files) =>
    files.filter((f) => f === 'saved_model.pb' || (/^\d+$/.test(f) && existsSync(join(dir, f, 'saved_model.pb')))),
  // Imported on use: tfjs is large, and servers of other formats should not pay for loading it.
  create: async (name, dir, flags) => {
    const tf = await import('@servekit/tf');
    const sessionOptions = sessionOptionsFromFlags(flags);
    const options = {
      backend: ((flags.tf_backend as string | undefined) ?? 'wasm') as TfjsBackendName,
      engine: ((flags.tf_engine as string | undefined) ?? 'auto') as TfEngineChoice,
      ...(sessionOptions === undefined ? {} : { sessionOptions }),
      ...(engineLogger === undefined ? {} : { logger: engineLogger }),
    };
    return tf.tfModelsFromDir(name, dir, options);
  },
};
