export type { ColumnInput, ConvertedGraph, GraphInputs } from './convert/model.js';
export { convertEstimator } from './convert/model.js';
export { MISSING_STRING } from './convert/preprocessing.js';
export { supportedEstimators } from './convert/registry.js';
export { DictVectorizer } from './dict-vectorizer.js';
export { type ConvertedSklearnModel, convert, convertSklearnBytes, loadSklearnModel } from './load.js';
export { PickleFormatError, UnsafePickleError, UnsupportedEstimatorError } from './pickle/errors.js';
export { decompressJoblib, readJoblibBytes, readJoblibFile } from './pickle/joblib.js';
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
export { unpickleBytes } from './pickle/unpickler.js';
export { type GraphFeed, RequestEncoder } from './request-encoding.js';
export { SklearnModel, type SklearnModelOptions } from './sklearn-model.js';
