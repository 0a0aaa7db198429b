/**** Serving: models for a servekit ModelServer ****/

export { TFModel, type TFModelMetadata, type TFModelOptions, tfModelsFromDir } from './model/tf-model.js';

/**** Loading and running SavedModels ****/

export {
  DEFAULT_SIGNATURE,
  type LoadSavedModelOptions,
  loadSavedModel,
  type SavedModelHandle,
  type SignatureInfo,
} from './saved-model/load.js';

/**** Engines (tfjs, ONNX on onnxruntime-node) ****/

export type { EngineLogger, TfEngineChoice, TfEngineName } from './engine/choose-engine.js';
export type { TfjsBackendName } from './engine/tfjs-engine.js';

/**** Frozen graphs ****/

export { TfDtype } from './graph/dtypes.js';
export { UnservableSignature } from './graph/freeze.js';
export type { FrozenGraph, FrozenTensor, GraphNode } from './graph/frozen-graph.js';
export type { HostTensor } from './graph/host-tensor.js';
export { type FreezeOptions, type FrozenSavedModel, freezeSavedModel } from './saved-model/load.js';

/**** ONNX lowering ****/

export {
  LOWERING_OPSET,
  type LoweredGraph,
  type LoweredTensor,
  type LowerOptions,
  lowerFrozenGraph,
  UnsupportedTfOps,
  unmappedOps,
} from './onnx/index.js';

/**** Building SavedModels (examples, benchmarks, tests) ****/

export {
  type Conv2dOptions,
  GraphDefBuilder,
  type GraphTensor,
  type PoolOptions,
  seededUniform,
  type TfPadding,
} from './saved-model/graph-def-builder.js';
export {
  attr as tfAttr,
  type FloatVar,
  type NodeSpec,
  type SigSpec,
  writeCheckpoint,
  writeSavedModel,
} from './saved-model/writer.js';
