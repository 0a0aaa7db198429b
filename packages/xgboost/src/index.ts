export * from './lightgbm-text.js';
export * from './load.js';
export * from './onnx-export.js';
export * from './tree-ensemble.js';
export { TreeModel, type TreeModelOptions } from './tree-model.js';
export * from './ubjson.js';
export * from './xgboost-binary.js';
export * from './xgboost-json.js';
export * from './xgboost-model.js';
