import { InvalidInput } from '@servekit/core';
import sharp from 'sharp';

/** Image formats the transformer decodes (sharp reads more, e.g. SVG; those are refused). */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp'] as const;

/** Largest decoded image in pixels (a decompression-bomb guard: 6000 × 6000, 108 MB of RGB). */
export const MAX_INPUT_PIXELS = 36_000_000;

/** Target of the resize: the model's input height and width. */
export interface ImageSize {
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
}

/**
 * Decode a JPEG/PNG/WebP image, drop alpha, convert to sRGB and resize to `size` with nearest-neighbour sampling,
 * ignoring the aspect ratio — what Keras' `load_img(path, target_size=…)` and the course's `keras_image_helper` do
 * — and return the HWC uint8 RGB pixels. Runs in sharp's thread pool, off the event loop. Undecodable or
 * unsupported bytes are a 400 naming `what`.
 */
export async function decodeImage(bytes: Uint8Array, size: ImageSize, what: string): Promise<Uint8Array> {
  const options = { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS } as const;
  let format: string | undefined;
  try {
    format = (await sharp(bytes, options).metadata()).format;
  } catch (err) {
    throw new InvalidInput(`${what} is not a decodable image: ${(err as Error).message}.`);
  }
  if (!(IMAGE_FORMATS as readonly string[]).includes(format ?? '')) {
    throw new InvalidInput(`${what} is a ${format ?? 'unknown'} image; send ${IMAGE_FORMATS.join(', ')}.`);
  }
  try {
    const { data, info } = await sharp(bytes, options)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return data;
  } catch (err) {
    throw new InvalidInput(`${what} could not be decoded: ${(err as Error).message}.`);
  }
}

/** Keras' Xception `preprocess_input` ("tf" mode): uint8 pixels → x / 127.5 − 1 in [−1, 1], written at `offset`. */
export function scaleXception(pixels: Uint8Array, out: Float32Array, offset: number): void {
  for (let i = 0; i < pixels.length; i++) out[offset + i] = pixels[i]! / 127.5 - 1;
}
