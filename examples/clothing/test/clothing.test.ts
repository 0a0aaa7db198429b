// examples/clothing end to end over real sockets: a predictor process (`servekit serve --model_dir
// examples/clothing/model`, the TF SavedModel) and a transformer process (`--model_module
// examples/clothing/dist/image-transformer.js --predictor_protocol grpc-v2`), gRPC between them, images from a
// local node:http server. Answers are checked against the same preprocessing computed here + a direct V2 gRPC
// request to the predictor; then base64 / V2 inputs, the in-process mode and the error paths.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient } from '@servekit/client';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, post, type Running, serve, stop } from '../../../packages/cli/test/cli-process.js';
import { buildClothingModel } from '../src/build-model.js';
import { CLASSES } from '../src/classes.js';
import { type ImageServer, makeImages, referenceTensor, serveImages, softmaxRows, type TestImages } from './images.js';

const MODULE = 'examples/clothing/dist/image-transformer.js';
const MAX_BYTES = 1_000_000;
const TIMEOUT_MS = 1500;
const ENV = { IMAGE_MAX_BYTES: String(MAX_BYTES), IMAGE_FETCH_TIMEOUT_MS: String(TIMEOUT_MS) };

type Scores = Record<string, number>;

describe('examples/clothing: transformer → gRPC → TF predictor', () => {
  let images: TestImages;
  let web: ImageServer;
  let predictor: Running;
  let transformer: Running;
  let inProcess: Running;
  let direct: GrpcClient;

  beforeAll(async () => {
    images = await makeImages();
    web = await serveImages(images);
    predictor = await serve(['--model_dir', 'examples/clothing/model', '--model_name', 'clothing']);
    [transformer, inProcess] = await Promise.all([
      serve(
        [
          '--model_module',
          MODULE,
          '--model_name',
          'clothing',
          '--predictor_host',
          predictor.grpc,
          '--predictor_protocol',
          'grpc-v2',
          '--enable_predictor_health_check',
        ],
        ENV,
      ),
      serve(
        [
          ...['--model_module', MODULE, '--model_name', 'clothing'],
          ...['--predictor_model_dir', 'examples/clothing/model', '--predictor_protocol', 'grpc-v2'],
        ],
        { ...ENV, IMAGE_ALLOWED_HOSTS: '127.0.0.1' },
      ),
    ]);
    direct = new GrpcClient({ address: predictor.grpc });
  });
  afterAll(async () => {
    direct?.close();
    const codes = await Promise.all([transformer, inProcess, predictor].filter(Boolean).map((r) => stop(r)));
    killAll();
    await web?.close();
    expect(codes).toEqual([0, 0, 0]);
  });

  /** The predictor's own answer for `tensors` (the test's preprocessing), softmaxed. */
  async function expected(...tensors: Float32Array[]): Promise<number[][]> {
    const n = tensors.length;
    const data = new Float32Array(n * 299 * 299 * 3);
    for (const [i, t] of tensors.entries()) data.set(t, i * t.length);
    const res = await direct.infer('clothing', {
      inputs: [{ name: 'input_8', datatype: 'FP32', shape: [n, 299, 299, 3], data }],
    });
    expect(res.outputs[0]).toMatchObject({ name: 'dense_7', shape: [n, 10] });
    return softmaxRows(res.outputs[0]!.data as Float32Array, 10);
  }

  /** `scores` holds the 10 classes, sorted by score, equal to `probs` (class order). */
  function expectScores(scores: Scores, probs: number[]): void {
    expect(Object.keys(scores).sort()).toEqual([...CLASSES].sort());
    const values = Object.values(scores);
    for (let i = 1; i < values.length; i++) expect(values[i - 1]!).toBeGreaterThanOrEqual(values[i]!);
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    for (const [j, c] of CLASSES.entries()) expect(scores[c]).toBeCloseTo(probs[j]!, 5);
  }

  const predict = (r: Running, body: unknown) => post(`${r.base}/v1/models/clothing:predict`, body);

  it('the predictor is the 299×299 Xception-style SavedModel with 10 logits', async () => {
    const meta = await direct.modelMetadata('clothing');
    expect(meta.inputs).toEqual([{ name: 'input_8', datatype: 'FP32', shape: [-1, 299, 299, 3] }]);
    expect(meta.outputs).toEqual([{ name: 'dense_7', datatype: 'FP32', shape: [-1, 10] }]);
  });

  it('answers an image URL with the predictor’s softmaxed logits for the same preprocessing, sorted', async () => {
    const res = await predict(transformer, { inputs: { url: `${web.base}/gradient.jpg` } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [probs] = await expected(await referenceTensor(images.jpeg));
    const predictions = res.body.predictions as Scores[];
    expect(predictions).toHaveLength(1);
    expectScores(predictions[0]!, probs!);
  });

  it('batches instances of URLs (JPEG, RGBA PNG, grayscale PNG) into one request, in order', async () => {
    const urls = ['gradient.jpg', 'pattern.png', 'gray.png'].map((f) => ({ url: `${web.base}/${f}` }));
    const res = await predict(transformer, { instances: urls });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const refs = await Promise.all([images.jpeg, images.png, images.gray].map((b) => referenceTensor(b)));
    const probs = await expected(...refs);
    const predictions = res.body.predictions as Scores[];
    expect(predictions).toHaveLength(3);
    for (const [i, p] of predictions.entries()) expectScores(p, probs[i]!);
    // Different pictures, different answers: the image really reaches the model.
    expect(predictions[0]!.dress).not.toBeCloseTo(predictions[1]!.dress!, 4);
  });

  it('scales pixels as x/127.5 − 1 in RGB order (a 299×299 image needs no resize)', async () => {
    const raw = Buffer.alloc(299 * 299 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + (i % 3) * 85) % 256;
    const png = await sharp(raw, { raw: { width: 299, height: 299, channels: 3 } })
      .png()
      .toBuffer();
    const tensor = Float32Array.from(raw, (v) => v / 127.5 - 1);
    const res = await predict(transformer, { inputs: { b64: png.toString('base64') } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [probs] = await expected(tensor);
    expectScores((res.body.predictions as Scores[])[0]!, probs!);
  });

  it('takes base64 images (KServe image_bytes, b64, a bare string) with the same answers as the URL', async () => {
    const b64 = images.jpeg.toString('base64');
    const byUrl = await predict(transformer, { inputs: { url: `${web.base}/gradient.jpg` } });
    const res = await predict(transformer, {
      instances: [{ image_bytes: { b64 } }, { b64 }, b64, { b64: `data:image/jpeg;base64,${b64}` }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const predictions = res.body.predictions as Scores[];
    expect(predictions).toHaveLength(4);
    for (const p of predictions) expect(p).toEqual((byUrl.body.predictions as Scores[])[0]);
  });

  it('follows redirects up to the limit', async () => {
    const ok = await predict(transformer, { inputs: { url: `${web.base}/redirect/3` } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const byUrl = await predict(transformer, { inputs: { url: `${web.base}/gradient.jpg` } });
    expect(ok.body).toEqual(byUrl.body);
    const tooMany = await predict(transformer, { inputs: { url: `${web.base}/redirect/4` } });
    expect(tooMany.status).toBe(502);
    expect(tooMany.body.error).toContain(`${web.base}/redirect/4`);
    expect(tooMany.body.error).toContain('redirects');
  });

  it('answers V2 gRPC clients: raw image bytes in, probabilities (class order) and label out', async () => {
    const client = new GrpcClient({ address: transformer.grpc });
    try {
      const res = await client.infer('clothing', {
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [2], data: [images.jpeg, images.png] }],
      });
      const probs = await expected(await referenceTensor(images.jpeg), await referenceTensor(images.png));
      const p = res.outputs.find((t) => t.name === 'probabilities')!;
      expect(p.shape).toEqual([2, 10]);
      const flat = p.data as Float32Array;
      for (let i = 0; i < flat.length; i++) expect(flat[i]).toBeCloseTo(probs[Math.floor(i / 10)]![i % 10]!, 5);
      const label = res.outputs.find((t) => t.name === 'label')!;
      const top = probs.map((row) => CLASSES[row.indexOf(Math.max(...row))]);
      const labels = Array.from(label.data as Array<string | Uint8Array>, (v) => Buffer.from(v).toString());
      expect(labels).toEqual(top);
    } finally {
      client.close();
    }
  });

  it('answers V2 REST JSON clients: BYTES strings holding a URL or base64', async () => {
    const res = await post(`${transformer.base}/v2/models/clothing/infer`, {
      inputs: [
        {
          name: 'image',
          datatype: 'BYTES',
          shape: [2],
          data: [`${web.base}/gradient.jpg`, images.png.toString('base64')],
        },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const probs = await expected(await referenceTensor(images.jpeg), await referenceTensor(images.png));
    const outputs = res.body.outputs as Array<{ name: string; shape: number[]; data: unknown[] }>;
    expect(outputs.map((o) => [o.name, o.shape])).toEqual([
      ['probabilities', [2, 10]],
      ['label', [2]],
    ]);
    const flat = outputs[0]!.data as number[];
    for (let i = 0; i < flat.length; i++) expect(flat[i]).toBeCloseTo(probs[Math.floor(i / 10)]![i % 10]!, 5);
  });

  it('in-process mode (--predictor_model_dir) gives the same answers with no predictor process', async () => {
    const body = { instances: [{ url: `${web.base}/gradient.jpg` }, { b64: images.png.toString('base64') }] };
    const [remote, local] = await Promise.all([predict(transformer, body), predict(inProcess, body)]);
    expect(local.status, JSON.stringify(local.body)).toBe(200);
    const a = remote.body.predictions as Scores[];
    const b = local.body.predictions as Scores[];
    expect(b.map((p) => Object.keys(p))).toEqual(a.map((p) => Object.keys(p)));
    for (const [i, p] of a.entries()) for (const c of CLASSES) expect(b[i]![c]).toBeCloseTo(p[c]!, 6);
  });

  it('IMAGE_ALLOWED_HOSTS: other hosts are a 400 and are not fetched', async () => {
    const before = web.hits.length;
    const url = web.base.replace('127.0.0.1', 'localhost');
    const res = await predict(inProcess, { instances: [{ url: `${url}/gradient.jpg` }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('host localhost is not allowed');
    expect(web.hits.length).toBe(before);
    expect((await predict(inProcess, { instances: [{ url: `${web.base}/gradient.jpg` }] })).status).toBe(200);
  });

  it('refuses non-http(s) URLs, also as redirect targets, with a 400', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/x.jpg', 'data:image/png;base64,AAAA']) {
      const res = await predict(transformer, { instances: [{ url }] });
      expect(res.status, url).toBe(400);
      expect(res.body.error).toContain('http or https');
    }
    const res = await predict(transformer, { inputs: { url: `${web.base}/to-file` } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('file:///etc/passwd');
  });

  it('a missing image is a 400 naming the URL and the status; a failing server a 502', async () => {
    const missing = await predict(transformer, { inputs: { url: `${web.base}/missing.jpg` } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain(`${web.base}/missing.jpg`);
    expect(missing.body.error).toContain('404');
    const broken = await predict(transformer, { inputs: { url: `${web.base}/broken.jpg` } });
    expect(broken.status).toBe(502);
    expect(broken.body.error).toContain(`${web.base}/broken.jpg`);
    expect(broken.body.error).toContain('500');
  });

  it('an unreachable image host is a 502 naming the URL', async () => {
    const closed = await serveImages(images);
    await closed.close();
    const res = await predict(transformer, { inputs: { url: `${closed.base}/gradient.jpg` } });
    expect(res.status).toBe(502);
    expect(res.body.error).toContain(`${closed.base}/gradient.jpg`);
    expect(res.body.error).toContain('ECONNREFUSED');
  });

  it('an image over the size cap is a 413, by content-length or while streaming', async () => {
    expect(images.big.length).toBeGreaterThan(MAX_BYTES);
    for (const path of ['/big.png', '/chunked-big.png']) {
      const res = await predict(transformer, { inputs: { url: `${web.base}${path}` } });
      expect(res.status, path).toBe(413);
      expect(res.body.error).toContain(`${web.base}${path}`);
      expect(res.body.error).toContain(String(MAX_BYTES));
    }
    const inline = await predict(transformer, { inputs: { b64: images.big.toString('base64') } });
    expect(inline.status).toBe(413);
  });

  it('a download slower than the timeout is a 504 naming the URL', async () => {
    const res = await predict(transformer, { inputs: { url: `${web.base}/slow.jpg` } });
    expect(res.status).toBe(504);
    expect(res.body.error).toContain(`${web.base}/slow.jpg`);
    expect(res.body.error).toContain(`${TIMEOUT_MS} ms`);
  });

  it('garbage bytes, non-base64 and unsupported formats are 400s', async () => {
    const cases: Array<[unknown, string]> = [
      [{ inputs: { url: `${web.base}/garbage.jpg` } }, 'not a decodable image'],
      [{ inputs: { b64: images.garbage.toString('base64') } }, 'not a decodable image'],
      [{ instances: [{ b64: 'not base64 at all!' }] }, 'not base64'],
      [{ instances: [`${web.base}/image.svg`] }, 'svg'],
      [{ instances: [] }, 'no images'],
      [{ instances: [42] }, 'instances[0]'],
      [{ something: 'else' }, '"instances"'],
      [{ inputs: { something: 'else' } }, 'is not an image'],
    ];
    for (const [body, message] of cases) {
      const res = await predict(transformer, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toContain(message);
    }
    // The transformer is still fine afterwards.
    expect((await predict(transformer, { inputs: { url: `${web.base}/gradient.jpg` } })).status).toBe(200);
  });
});

describe('examples/clothing: the input name and size come from the predictor’s metadata', () => {
  let dir: string;
  let web: ImageServer;
  let images: TestImages;
  let predictor: Running;
  let transformer: Running;

  beforeAll(async () => {
    // A drop-in model with another input name and size: nothing but --model_dir changes.
    dir = mkdtempSync(join(tmpdir(), 'clothing-160-'));
    buildClothingModel(join(dir, '1'), { size: 160, inputName: 'images', seed: 7 });
    images = await makeImages();
    web = await serveImages(images);
    predictor = await serve(['--model_dir', dir, '--model_name', 'clothing-160']);
    transformer = await serve([
      ...['--model_module', MODULE, '--model_name', 'clothing-160'],
      ...['--predictor_host', predictor.grpc, '--predictor_protocol', 'grpc-v2'],
    ]);
  });
  afterAll(async () => {
    const codes = await Promise.all([transformer, predictor].filter(Boolean).map((r) => stop(r)));
    killAll();
    await web?.close();
    rmSync(dir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0]);
  });

  it('feeds `images` [N, 160, 160, 3] and answers what the model gives for that tensor', async () => {
    const res = await post(`${transformer.base}/v1/models/clothing-160:predict`, {
      instances: [{ url: `${web.base}/gradient.jpg` }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const client = new GrpcClient({ address: predictor.grpc });
    try {
      const data = await referenceTensor(images.jpeg, 160);
      const out = await client.infer('clothing-160', {
        inputs: [{ name: 'images', datatype: 'FP32', shape: [1, 160, 160, 3], data }],
      });
      const [probs] = softmaxRows(out.outputs[0]!.data as Float32Array, 10);
      const scores = (res.body.predictions as Scores[])[0]!;
      for (const [j, c] of CLASSES.entries()) expect(scores[c]).toBeCloseTo(probs![j]!, 5);
    } finally {
      client.close();
    }
  });
});

describe('examples/clothing: the predictor is down', () => {
  let transformer: Running;
  let address: string;
  let web: ImageServer;

  beforeAll(async () => {
    web = await serveImages(await makeImages());
    // A port nothing listens on: the transformer starts (no health check) and every request fails clearly.
    const gone = await serveImages(await makeImages());
    address = gone.base.replace('http://', '');
    await gone.close();
    transformer = await serve([
      ...['--model_module', MODULE, '--model_name', 'clothing'],
      ...['--predictor_host', address, '--predictor_protocol', 'grpc-v2'],
    ]);
  });
  afterAll(async () => {
    const code = transformer ? await stop(transformer) : 0;
    killAll();
    await web?.close();
    expect(code).toBe(0);
  });

  it('is a 503 naming the predictor, not a hang or a 500', async () => {
    const res = await post(`${transformer.base}/v1/models/clothing:predict`, {
      instances: [{ url: `${web.base}/gradient.jpg` }],
    });
    expect(res.status).toBe(503);
    expect(res.body.error).toContain(`grpc://${address}`);
  });
});
