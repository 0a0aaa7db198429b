/**** Serving a model directory ****/

export { detectFormat, modelFromDir, modelsFromDir } from './detect.js';
export { MODEL_FORMATS, type ModelFormat, SERVE_FLAGS, type ServeFlags } from './flags.js';
export { serve } from './serve.js';

/**** Converting a model to ONNX ****/

export { convert } from './convert.js';
