export * from './dtype-map.js';
export * from './input-cast.js';
export * from './onnx-model.js';
export * from './proto/graph-builder.js';
export * from './proto/onnx-schema.js';
export * from './proto/tensor-proto.js';
export * from './session-worker.js';
export * from './zipmap.js';
