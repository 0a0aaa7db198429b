// Test images and a local image server (node:http on 127.0.0.1) for the clothing example's tests.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import sharp from 'sharp';

/** The images the test server serves, by path. */
export interface TestImages {
  /** 400×300 RGB gradient, JPEG. */
  jpeg: Buffer;
  /** 400×300 RGBA pattern, PNG. */
  png: Buffer;
  /** 200×150 grayscale PNG (one channel). */
  gray: Buffer;
  /** A PNG of random noise, larger than the transformer's size cap in the tests. */
  big: Buffer;
  /** An SVG (decodable by sharp, refused by the transformer). */
  svg: Buffer;
  /** Bytes that are no image. */
  garbage: Buffer;
}

/** Build the test images with sharp. */
export async function makeImages(): Promise<TestImages> {
  const [w, h] = [400, 300];
  const rgb = Buffer.alloc(w * h * 3);
  const rgba = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      rgb.set([Math.round((255 * x) / (w - 1)), Math.round((255 * y) / (h - 1)), 64], (y * w + x) * 3);
      rgba.set([(x * 7) % 256, 255 - ((y * 5) % 256), (x + y) % 256, x < 100 ? 90 : 255], (y * w + x) * 4);
    }
  }
  const grayRaw = Buffer.alloc(200 * 150);
  for (let i = 0; i < grayRaw.length; i++) grayRaw[i] = (i * 13) % 256;
  return {
    jpeg: await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer(),
    png: await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
      .png()
      .toBuffer(),
    gray: await sharp(grayRaw, { raw: { width: 200, height: 150, channels: 1 } })
      .png()
      .toBuffer(),
    big: await sharp(randomBytes(800 * 600 * 3), { raw: { width: 800, height: 600, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer(),
    svg: Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    ),
    garbage: Buffer.from('this is not an image, just some bytes '.repeat(20)),
  };
}

/** A running image server. */
export interface ImageServer {
  /** `http://127.0.0.1:PORT`. */
  base: string;
  /** Requests seen, by path. */
  hits: string[];
  /** Stop it (and drop hanging connections). */
  close(): Promise<void>;
}

/**
 * Serve `images` on 127.0.0.1: `/NAME.jpg|png|...` the image, `/missing.jpg` 404, `/broken.jpg` 500,
 * `/redirect/N` N redirects then the JPEG, `/to-file` a redirect to file://, `/slow.jpg` headers then never the
 * body, `/chunked-big.png` the big image without content-length (so only the streamed cap can stop it).
 */
export async function serveImages(images: TestImages): Promise<ImageServer> {
  const hits: string[] = [];
  const files: Record<string, [Buffer, string]> = {
    '/gradient.jpg': [images.jpeg, 'image/jpeg'],
    '/pattern.png': [images.png, 'image/png'],
    '/gray.png': [images.gray, 'image/png'],
    '/big.png': [images.big, 'image/png'],
    '/image.svg': [images.svg, 'image/svg+xml'],
    '/garbage.jpg': [images.garbage, 'image/jpeg'],
  };
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    hits.push(url);
    const file = files[url];
    if (file)
      return void res.writeHead(200, { 'content-type': file[1], 'content-length': file[0].length }).end(file[0]);
    const redirect = /^\/redirect\/(\d+)$/.exec(url);
    if (redirect) {
      const n = Number(redirect[1]);
      return void res.writeHead(302, { location: n > 1 ? `/redirect/${n - 1}` : '/gradient.jpg' }).end();
    }
    if (url === '/to-file') return void res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    if (url === '/broken.jpg') return void res.writeHead(500).end('boom');
    if (url === '/slow.jpg') return void res.writeHead(200, { 'content-type': 'image/jpeg' }).flushHeaders();
    if (url === '/chunked-big.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      for (let o = 0; o < images.big.length; o += 16_384) res.write(images.big.subarray(o, o + 16_384));
      return void res.end();
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** What the test expects the transformer to feed the model: resize (nearest, no aspect) to 299², RGB, x/127.5 − 1. */
export async function referenceTensor(image: Buffer, size = 299): Promise<Float32Array> {
  const { data, info } = await sharp(image)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(size, size, { fit: 'fill', kernel: 'nearest' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== size * size * 3)
    throw new Error(`unexpected decode ${JSON.stringify(info)}`);
  return Float32Array.from(data, (v) => v / 127.5 - 1);
}

/** Row-wise softmax of `[rows, k]` logits, in float64. */
export function softmaxRows(logits: ArrayLike<number>, k: number): number[][] {
  const rows: number[][] = [];
  for (let o = 0; o < logits.length; o += k) {
    const row = Array.from({ length: k }, (_, j) => Number(logits[o + j]));
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    rows.push(e.map((v) => v / sum));
  }
  return rows;
}
