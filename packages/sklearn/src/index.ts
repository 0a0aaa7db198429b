/**** Serving: scikit-learn models for a servekit ModelServer ****/

export { SKLEARN_METHODS, type SklearnMethod } from './convert/context.js';
export { SklearnModel, type SklearnModelOptions } from './sklearn-model.js';

/**** Loading and converting joblib / pickle files to ONNX ****/

export { supportedEstimators } from './convert/registry.js';
export {
  type ConvertedSklearnModel,
  convert,
  convertSklearnBytes,
  loadSklearnModel,
} from './load.js';
export {
  DEFAULT_LOAD_MAX_MEMORY_MB,
  DEFAULT_LOAD_TIMEOUT_MS,
  type IsolatedLoadOptions,
  loadSklearnModelIsolated,
  ModelLoadAbortedError,
} from './load-isolated.js';

/**** Errors and limits of the restricted unpickler ****/

export { PickleFormatError, UnsafePickleError, UnsupportedEstimatorError } from './pickle/errors.js';
export { DEFAULT_PICKLE_LIMITS, PickleLimitError, type PickleLimits } from './pickle/limits.js';
