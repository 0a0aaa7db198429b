export { convert } from './convert.js';
export { detectFormat, modelsFromDir } from './detect.js';
export { MODEL_FORMATS, type ModelFormat, SERVE_FLAGS } from './flags.js';
export { FORMATS, type ModelFormatHandler, type ServedModel } from './formats/index.js';
export { serve } from './serve.js';
