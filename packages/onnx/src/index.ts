/**** Serving: ONNX models for a servekit ModelServer ****/

export { DEFAULT_SESSION_OPTIONS, OnnxModel, type OnnxModelOptions } from './onnx-model.js';
export type { OrtSessionOptions } from './session-options.js';

/**** Building ONNX graphs (the sklearn, XGBoost and TF converters) ****/

export { type Attr, attr, type Dim, GraphBuilder, type OnnxElemType } from './proto/graph-builder.js';
export { OnnxDataType } from './proto/onnx-schema.js';

/**** Running a session off the main thread (TF's ONNX engine) ****/

export { V2_TO_ORT } from './dtype-map.js';
export { type SessionInfo, type WireTensor, WorkerSession } from './session-worker.js';
