import { PREDICTOR_FLAGS } from '@servekit/client/flags';
import { type FlagSpec, type ParsedFlagsOf, SERVER_FLAGS } from '@servekit/core';
import { SKLEARN_METHODS } from '@servekit/sklearn/methods';
import { SESSION_FLAGS } from './session-flags.js';

/** The model formats `servekit serve` can detect or be told to use. */
export const MODEL_FORMATS = ['onnx', 'sklearn', 'xgboost', 'lightgbm', 'catboost', 'tensorflow', 'custom'] as const;

/** A model format name. */
export type ModelFormat = (typeof MODEL_FORMATS)[number];

/** scikit-learn methods `--sklearn_method` may name (a request's `method` parameter picks per request). */
export { SKLEARN_METHODS };

/** TensorFlow backends of `--tf_backend`. */
export const TF_BACKENDS = ['wasm', 'cpu'] as const;

/** TensorFlow engines of `--tf_engine`: `auto` lets @servekit/tf choose per signature, `tfjs` and `onnx` force one. */
export const TF_ENGINES = ['auto', 'tfjs', 'onnx'] as const;

/** `servekit serve` flags: the shared server flags plus model selection and storage. */
export const SERVE_FLAGS = [
  ...SERVER_FLAGS,
  {
    name: 'model_format',
    type: 'string',
    choices: MODEL_FORMATS,
    doc: `Force the format instead of detecting it: ${MODEL_FORMATS.join(', ')}.`,
  },
  {
    name: 'predict_proba',
    type: 'boolean',
    default: false,
    doc: 'Classifiers answer V1 requests with class probabilities instead of labels.',
    env: ['PREDICT_PROBA'],
  },
  {
    name: 'sklearn_method',
    type: 'string',
    choices: SKLEARN_METHODS,
    doc: `scikit-learn models: the method requests answer unless they send "method": ${SKLEARN_METHODS.join(', ')}.`,
  },
  {
    name: 'storage_uri',
    type: 'string',
    doc: 'Fetch the model from s3://, gs://, http(s)://, file:// or pvc:// (instead of --model_dir).',
    env: ['STORAGE_URI'],
  },
  {
    name: 'storage_cache_dir',
    type: 'string',
    doc: 'Where downloaded models are kept (default: <tmpdir>/servekit-models).',
  },
  {
    name: 'tf_backend',
    type: 'string',
    default: 'wasm',
    choices: TF_BACKENDS,
    doc: 'TensorFlow tfjs backend: wasm or cpu.',
  },
  {
    name: 'tf_engine',
    type: 'string',
    default: 'auto',
    choices: TF_ENGINES,
    doc: 'TensorFlow engine: auto (ONNX when every op lowers and it matches tfjs on a probe), onnx, or tfjs.',
  },
  {
    name: 'model_load_timeout_seconds',
    type: 'number',
    default: 300,
    doc: 'Time budget of reading and converting one model file (in a worker thread); past it the load fails.',
  },
  {
    name: 'model_load_max_memory_mb',
    type: 'number',
    default: 4096,
    doc: 'Heap cap in MiB of the worker reading and converting one model file; past it the load fails.',
  },
  {
    name: 'model_max_bytes',
    type: 'number',
    default: 1024 * 1024 * 1024,
    doc: 'File budget of a pickle/joblib model: most bytes after decompression, and most bytes built from it.',
  },
  {
    name: 'storage_max_unpacked_bytes',
    type: 'number',
    default: 8 * 1024 * 1024 * 1024,
    doc: 'Most bytes a downloaded archive may unpack to (also at most --storage_max_unpack_ratio × its size).',
  },
  {
    name: 'storage_max_unpack_ratio',
    type: 'number',
    default: 50,
    doc: 'Most an archive may unpack to relative to its own size, beyond the first 64 MiB.',
  },
  {
    name: 'storage_max_entries',
    type: 'number',
    default: 10000,
    doc: 'Most entries (files, folders, links) a downloaded archive may hold.',
  },
  {
    name: 'model_module',
    type: 'string',
    doc: 'A JS module exporting a Model subclass (default export or `model`), e.g. a transformer.',
  },
  {
    name: 'v8_optimize_for_size',
    type: 'boolean',
    default: false,
    doc: "V8's optimize-for-size mode: 7–11 MiB less RSS after load, about twice the CPU per request.",
  },
  {
    name: 'v8_heap_growing_percent',
    type: 'number',
    default: 0,
    doc: "V8's old-generation growth per full GC, in % (0: V8's default); 10 keeps RSS lower under load, more GC.",
  },
  ...PREDICTOR_FLAGS,
  ...SESSION_FLAGS,
] as const satisfies readonly FlagSpec[];

/** Parsed values of SERVE_FLAGS (`parseFlags(argv, SERVE_FLAGS)`). */
export type ServeFlags = ParsedFlagsOf<typeof SERVE_FLAGS>;
