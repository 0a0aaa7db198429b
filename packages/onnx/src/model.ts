/**** Serving an ONNX model, without the graph builders (and protobufjs under them): what `servekit serve` loads ****/

export { DEFAULT_SESSION_OPTIONS, OnnxModel, type OnnxModelOptions } from './onnx-model.js';
export type { OrtSessionOptions } from './session-options.js';
