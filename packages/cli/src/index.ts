export { convert, modelFileIn } from './convert.js';
export { detectFormat, modelFromDir, modelsFromDir } from './detect.js';
export { MODEL_FORMATS, type ModelFormat, SERVE_FLAGS, type ServeFlags, TF_BACKENDS, TF_ENGINES } from './flags.js';
export { FORMATS, type ModelFormatHandler, type ServedModel } from './formats/index.js';
export { serve } from './serve.js';
export {
  GRAPH_OPTIMIZATION_LEVELS,
  type OrtSessionOptions,
  SESSION_FLAGS,
  sessionOptionsFromFlags,
} from './session-flags.js';
