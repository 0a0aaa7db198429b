import { customFormat } from './custom.js';
import type { ModelFormatHandler } from './format.js';
import { onnxFormat } from './onnx.js';
import { sklearnFormat } from './sklearn.js';
import { tensorflowFormat } from './tensorflow.js';
import { catboostFormat, lightgbmFormat, xgboostFormat } from './trees.js';

export type { DetectContext, DetectLogger, ModelFormatHandler, ModelFromDir, ServedModel } from './format.js';

/** Every format `servekit serve` detects, in detection order. */
export const FORMATS: ModelFormatHandler[] = [
  onnxFormat,
  sklearnFormat,
  xgboostFormat,
  lightgbmFormat,
  catboostFormat,
  tensorflowFormat,
  customFormat,
];
