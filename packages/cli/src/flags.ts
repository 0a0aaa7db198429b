import { type FlagSpec, SERVER_FLAGS } from '@servekit/core';

/** The model formats `servekit serve` can detect or be told to use. */
export const MODEL_FORMATS = ['onnx', 'sklearn', 'xgboost', 'lightgbm', 'tensorflow', 'custom'] as const;

/** A model format name. */
export type ModelFormat = (typeof MODEL_FORMATS)[number];

/** `servekit serve` flags: the shared server flags plus model selection and storage. */
export const SERVE_FLAGS: FlagSpec[] = [
  ...SERVER_FLAGS,
  {
    name: 'model_format',
    type: 'string',
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
  { name: 'tf_backend', type: 'string', default: 'wasm', doc: 'TensorFlow engine backend: wasm or cpu.' },
  {
    name: 'model_module',
    type: 'string',
    doc: 'A JS module exporting a Model subclass (default export or `model`), e.g. a transformer.',
  },
];
