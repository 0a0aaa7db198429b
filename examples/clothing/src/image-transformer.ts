/**
 * The clothing image transformer: an image URL or image bytes in, `{"predictions": [{class: probability, …}]}`
 * (highest first) out. `preprocess` downloads or decodes each image, resizes it to the predictor's input size and
 * scales it like Keras' Xception `preprocess_input`; `predict` (the base Transformer) sends the [N, H, W, 3]
 * FP32 tensor to the TF predictor over V2 (gRPC or REST); `postprocess` turns the logits into ranked classes.
 *
 *   servekit serve --model_module examples/clothing/dist/image-transformer.js --model_name clothing \
 *     --predictor_host 127.0.0.1:8081 --predictor_protocol grpc-v2
 */
import {
  type InferContext,
  type InferRequest,
  type InferResponse,
  InvalidInput,
  isInferResponse,
  type ModelMetadata,
  type Payload,
  PredictorError,
  type Result,
  Transformer,
  type TransformerOptions,
} from '@servekit/core';
import { CLASSES } from './classes.js';
import { decodeImage, scaleXception } from './decode-image.js';
import { ImageTooLarge } from './errors.js';
import { type FetchLimits, fetchImage } from './fetch-image.js';
import { type ImageSource, imageSources } from './payload.js';
import { type PredictorInput, resolvePredictorInput } from './predictor-input.js';
import { classProbabilities, rankedScores } from './scores.js';

/** Options of the image transformer; each also has an environment variable (read when the option is absent). */
export interface ImageTransformerOptions extends TransformerOptions {
  /** Class names in the model's output order. Default: the 10 clothing classes. */
  classes?: readonly string[];
  /** Square input size, overriding the predictor's metadata (`IMAGE_SIZE`). */
  imageSize?: number;
  /** Input tensor name, overriding the predictor's metadata (`IMAGE_INPUT_NAME`). */
  inputName?: string;
  /** Largest image, downloaded or inline, in bytes (`IMAGE_MAX_BYTES`). Default 10 MiB. */
  maxImageBytes?: number;
  /** Time allowed for one image download in ms (`IMAGE_FETCH_TIMEOUT_MS`). Default 10000. */
  fetchTimeoutMs?: number;
  /** Redirects followed per download (`IMAGE_MAX_REDIRECTS`). Default 3. */
  maxRedirects?: number;
  /** Host names images may be fetched from; any when empty (`IMAGE_ALLOWED_HOSTS`, comma separated). */
  allowedHosts?: readonly string[];
}

/** A positive whole number from the environment, or undefined; a malformed value throws naming the variable. */
function envInt(name: string, min: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}; got "${raw}"`);
  return n;
}

/** Images → Xception tensor → TF predictor → ranked clothing classes. The `--model_module` default export. */
export default class ImageTransformer extends Transformer {
  /** Class names in output order. */
  readonly classes: readonly string[];
  /** Download limits. */
  readonly limits: FetchLimits;
  private readonly options: ImageTransformerOptions;
  private input?: PredictorInput;

  constructor(name: string, options: ImageTransformerOptions) {
    super(name, options);
    this.options = options;
    this.classes = options.classes ?? CLASSES;
    const hosts = options.allowedHosts ?? (process.env.IMAGE_ALLOWED_HOSTS ?? '').split(',');
    this.limits = {
      maxBytes: options.maxImageBytes ?? envInt('IMAGE_MAX_BYTES', 1) ?? 10 * 1024 * 1024,
      timeoutMs: options.fetchTimeoutMs ?? envInt('IMAGE_FETCH_TIMEOUT_MS', 1) ?? 10_000,
      maxRedirects: options.maxRedirects ?? envInt('IMAGE_MAX_REDIRECTS', 0) ?? 3,
      allowedHosts: hosts.map((h) => h.trim().toLowerCase()).filter((h) => h !== ''),
    };
  }

  /** Prepare the predictor (base class), then read its input name and size once (retried on first use if down). */
  override async load(): Promise<void> {
    await super.load();
    await this.predictorInput().catch(() => undefined);
  }

  /** The predictor's input name and size: resolved once, from the settings or the predictor's metadata. */
  async predictorInput(): Promise<PredictorInput> {
    if (this.input) return this.input;
    let meta: ModelMetadata | undefined;
    try {
      meta = await this.predictor.metadata(this.predictorModel);
    } catch (err) {
      throw new PredictorError(
        `Predictor ${this.predictor.description} did not describe model ${this.predictorModel}: ${(err as Error).message}`,
        503,
      );
    }
    this.input = resolvePredictorInput(meta, {
      imageSize: this.options.imageSize ?? envInt('IMAGE_SIZE', 1),
      inputName: this.options.inputName ?? process.env.IMAGE_INPUT_NAME,
    });
    return this.input;
  }

  /** Request → images (downloaded / decoded concurrently) → one FP32 [N, H, W, 3] tensor scaled to [−1, 1]. */
  override async preprocess(payload: Payload, ctx: InferContext): Promise<InferRequest> {
    if (this.predictor.protocol === 'v1') {
      throw new InvalidInput(
        `Transformer ${this.name} sends tensors: start it with --predictor_protocol grpc-v2 or v2.`,
      );
    }
    const sources = imageSources(payload);
    const input = await this.predictorInput();
    const pixels = input.height * input.width * 3;
    const data = new Float32Array(sources.length * pixels);
    // The first failure answers the request; the other downloads of the request stop with it.
    const siblings = new AbortController();
    const signal = AbortSignal.any([ctx.signal, siblings.signal]);
    try {
      await Promise.all(
        sources.map(async (src, i) => {
          const rgb = await decodeImage(await this.imageBytes(src, signal), input, src.what);
          scaleXception(rgb, data, i * pixels);
        }),
      );
    } finally {
      siblings.abort();
    }
    return {
      inputs: [
        { name: input.inputName, datatype: 'FP32', shape: [sources.length, input.height, input.width, 3], data },
      ],
    };
  }

  /** The encoded bytes of one image: downloaded, or the inline bytes checked against the size cap. */
  private async imageBytes(src: ImageSource, signal: AbortSignal): Promise<Uint8Array> {
    if (src.kind === 'url') return fetchImage(src.url, this.limits, signal);
    if (src.bytes.byteLength > this.limits.maxBytes) {
      throw new ImageTooLarge(`${src.what} is ${src.bytes.byteLength} bytes; the limit is ${this.limits.maxBytes}.`);
    }
    return src.bytes;
  }

  /**
   * Predictor logits → probabilities (softmax unless they already are). V1 clients get
   * `{"predictions": [{class: p, …}]}` sorted by p; V2 / gRPC clients get `probabilities` FP32 [N, classes] (class
   * order) and `label` BYTES [N] (the top class).
   */
  override postprocess(result: Result, ctx: InferContext): Result {
    if (!isInferResponse(result)) {
      throw new PredictorError(`Predictor ${this.predictor.description} did not answer with tensors.`);
    }
    const k = this.classes.length;
    const { rows, probs } = classProbabilities(result, k, this.input?.outputName, this.predictor.description);
    if (ctx.protocol === 'v1') {
      return { predictions: Array.from({ length: rows }, (_, r) => rankedScores(probs, r, this.classes)) };
    }
    const labels = Array.from({ length: rows }, (_, r) => {
      let best = 0;
      for (let j = 1; j < k; j++) if (probs[r * k + j]! > probs[r * k + best]!) best = j;
      return this.classes[best]!;
    });
    const response: InferResponse = {
      model_name: this.name,
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [rows, k], data: probs },
        { name: 'label', datatype: 'BYTES', shape: [rows], data: labels },
      ],
    };
    if (result.id !== undefined) response.id = result.id;
    return response;
  }

  /** V2 metadata of the transformer itself: images in (BYTES), class probabilities and the top label out. */
  override metadata(): ModelMetadata {
    return {
      name: this.name,
      platform: 'servekit_transformer',
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [-1] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, this.classes.length] },
        { name: 'label', datatype: 'BYTES', shape: [-1] },
      ],
    };
  }
}
