// Writes the README's sample images: examples/clothing/images/sample.jpg (a 400×300 colour gradient) and
// sample.png (a 320×240 RGBA pattern). Synthetic on purpose — no photo is redistributed — and the model's
// weights are random anyway, so any picture gives a (meaningless) ranking.
//
//   node examples/clothing/dist/make-samples.js [OUT_DIR]     (default: examples/clothing/images)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** Raw RGB(A) pixels of a `width × height` image whose colour is `pixel(x, y)`. */
export function pattern(
  width: number,
  height: number,
  channels: 3 | 4,
  pixel: (x: number, y: number) => number[],
): Buffer {
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out.set(pixel(x, y).slice(0, channels), (y * width + x) * channels);
  }
  return out;
}

/** The JPEG sample: a horizontal red and vertical green gradient over constant blue, 400×300. */
export function gradientJpeg(): Promise<Buffer> {
  const [w, h] = [400, 300];
  const raw = pattern(w, h, 3, (x, y) => [Math.round((255 * x) / (w - 1)), Math.round((255 * y) / (h - 1)), 96]);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** The PNG sample: diagonal stripes with a partly transparent band, 320×240 RGBA. */
export function stripesPng(): Promise<Buffer> {
  const [w, h] = [320, 240];
  const raw = pattern(w, h, 4, (x, y) => {
    const on = Math.floor((x + y) / 20) % 2 === 0;
    return on ? [230, 40, 40, y < 60 ? 128 : 255] : [20, 20, 200, 255];
  });
  return sharp(raw, { raw: { width: w, height: h, channels: 4 } })
    .png()
    .toBuffer();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../images', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'sample.jpg'), await gradientJpeg());
  writeFileSync(join(out, 'sample.png'), await stripesPng());
  console.log(`wrote ${out}/sample.jpg and sample.png`);
}
