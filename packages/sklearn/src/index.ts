export type { ColumnInput, ConvertedGraph, GraphInputs } from './convert/model.js';
export { convertEstimator } from './convert/model.js';
export { MISSING_STRING } from './convert/preprocessing.js';
export { supportedEstimators } from './convert/registry.js';
export { DictVectorizer } from './dict-vectorizer.js';
export {
  type ConvertedSklearnModel,
  convert,
  convertSklearnBytes,
  convertSklearnGraph,
  loadSklearnModel,
} from './load.js';
export {
  DEFAULT_LOAD_MAX_MEMORY_MB,
  DEFAULT_LOAD_TIMEOUT_MS,
  type IsolatedLoadOptions,
  loadSklearnModelIsolated,
  ModelLoadAbortedError,
} from './load-isolated.js';
export { PickleFormatError, UnsafePickleError, UnsupportedEstimatorError } from './pickle/errors.js';
export { decompressJoblib, readJoblibBytes, readJoblibFile } from './pickle/joblib.js';
export { DEFAULT_PICKLE_LIMITS, PickleLimitError, type PickleLimits, pickleLimits } from './pickle/limits.js';
export type {
  DType,
  DTypeField,
  NdArray,
  NdData,
  PyDict,
  PyGlobal,
  PyObject,
  PySet,
  PyValue,
} from './pickle/py-types.js';
export { longFromBytes, type UnpickleOptions, unpickleBytes } from './pickle/unpickler.js';
export { type GraphFeed, RequestEncoder } from './request-encoding.js';
export { SklearnModel, type SklearnModelOptions } from './sklearn-model.js';
