export { Checkpoint, OBJECT_GRAPH_KEY } from './checkpoint/bundle.js';
export { crc32c, maskCrc, unmaskCrc } from './checkpoint/crc32c.js';
export { snappyDecompress } from './checkpoint/snappy.js';
export { readTable, type TableEntry } from './checkpoint/sstable.js';
export {
  type ChooseEngineOptions,
  type ChosenEngine,
  chooseEngine,
  type EngineLogger,
  loadOnnxRunner,
  NotLowerable,
  type TfEngineChoice,
  type TfEngineName,
} from './engine/choose-engine.js';
export { OnnxSignatureRunner, type OrtSessionOptions, type SignatureRunner } from './engine/onnx-engine.js';
export {
  compareOutputs,
  DEFAULT_PROBE_TOLERANCE,
  type ProbeComparison,
  type ProbeDifference,
  type ProbeTolerance,
  probeInputs,
  probeShapes,
} from './engine/probe.js';
export { type TfjsArtifacts, toTfjsArtifacts } from './engine/tfjs-artifacts.js';
export { activateBackend, checkTfjsOps, type TfjsBackendName, TfjsSignatureRunner } from './engine/tfjs-engine.js';
export { tfjsSupportedOps } from './engine/tfjs-ops.js';
export { dtypeName, TfDtype, tfjsDtype, v2Datatype } from './graph/dtypes.js';
export { type FlatGraph, flattenGraph, type OpRegistry } from './graph/flatten.js';
export { freezeSignature, UnservableSignature, type VariableSource } from './graph/freeze.js';
export {
  type FrozenGraph,
  type FrozenTensor,
  type GraphNode,
  normalizeTensor,
  splitTensor,
} from './graph/frozen-graph.js';
export { type HostTensor, shapeDims, tensorFromProto } from './graph/host-tensor.js';
export { variableCheckpointKeys } from './graph/variables.js';
export {
  requestedSignature,
  SIGNATURE_PARAM,
  TFModel,
  type TFModelMetadata,
  type TFModelOptions,
  tfModelsFromDir,
} from './model/tf-model.js';
export { type DecodedV1, decodeV1, encodeV1, type V1Format } from './model/v1-tf-serving.js';
export {
  LOWERING_OPSET,
  type LoweredGraph,
  type LoweredTensor,
  type LowerOptions,
  lowerFrozenGraph,
  UnsupportedTfOps,
  unmappedOps,
} from './onnx/index.js';
export * from './proto/tf-schema.js';
export {
  type Conv2dOptions,
  GraphDefBuilder,
  type GraphTensor,
  type PoolOptions,
  seededUniform,
  type TfPadding,
} from './saved-model/graph-def-builder.js';
export {
  DEFAULT_SIGNATURE,
  type FreezeOptions,
  type FrozenSavedModel,
  freezeSavedModel,
  type LoadSavedModelOptions,
  loadSavedModel,
  type SavedModelHandle,
  type SignatureInfo,
} from './saved-model/load.js';
export { readSavedModel, readSavedModelProto, type SavedModelFiles, selectMetaGraph } from './saved-model/reader.js';
export { discoverSavedModelVersions, isSavedModelDir, type SavedModelVersion } from './saved-model/versions.js';
export {
  attr as tfAttr,
  type FloatVar,
  type NodeSpec,
  type SigSpec,
  snappyLiterals,
  writeCheckpoint,
  writeSavedModel,
  writeTable,
} from './saved-model/writer.js';
