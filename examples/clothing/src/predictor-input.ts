import type { ModelMetadata } from '@servekit/core';

/** What the transformer needs to know about the predictor's image input and class output. */
export interface PredictorInput {
  /** Input tensor name (the SavedModel signature key, e.g. `input_8`). */
  inputName: string;
  /** Input height in pixels. */
  height: number;
  /** Input width in pixels. */
  width: number;
  /** Output tensor holding the class scores (undefined: the first output the predictor returns). */
  outputName: string | undefined;
  /** Where these values came from, for the log and error messages. */
  source: string;
}

/** Xception's input size, used when neither the configuration nor the predictor's metadata give one. */
export const DEFAULT_IMAGE_SIZE = 299;
/** The input name used when neither the configuration nor the predictor's metadata give one. */
export const DEFAULT_INPUT_NAME = 'input_8';

/** Explicit settings; each one wins over the predictor's metadata. */
export interface InputOverrides {
  /** Square input size in pixels. */
  imageSize?: number;
  /** Input tensor name. */
  inputName?: string;
}

/**
 * The image input to feed: explicit settings first, then the predictor's metadata (its first FP32 input of shape
 * [N, H, W, 3]: name, H, W; its first output), then Xception's defaults (`input_8`, 299 × 299).
 */
export function resolvePredictorInput(meta: ModelMetadata | undefined, overrides: InputOverrides): PredictorInput {
  const image = meta?.inputs.find((t) => t.datatype === 'FP32' && t.shape.length === 4 && t.shape[3] === 3);
  const fromMeta = (n: number | undefined) => (n !== undefined && n > 0 ? n : undefined);
  const height = overrides.imageSize ?? fromMeta(image?.shape[1]) ?? DEFAULT_IMAGE_SIZE;
  const width = overrides.imageSize ?? fromMeta(image?.shape[2]) ?? DEFAULT_IMAGE_SIZE;
  const inputName = overrides.inputName ?? image?.name ?? meta?.inputs[0]?.name ?? DEFAULT_INPUT_NAME;
  const source = meta ? `metadata of ${meta.name}` : 'defaults';
  return { inputName, height, width, outputName: meta?.outputs[0]?.name, source };
}
