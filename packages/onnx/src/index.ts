export * from './proto/graph-builder.js';
export * from './proto/onnx-schema.js';
