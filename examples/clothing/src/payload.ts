import { type InferTensor, InvalidInput, isInferRequest, type Payload } from '@servekit/core';

/** Where one image of a request comes from. */
export type ImageSource =
  | {
      /** A URL to download. */
      kind: 'url';
      /** The URL as the client sent it. */
      url: string;
      /** Which part of the request it was, for error messages. */
      what: string;
    }
  | {
      /** Image bytes sent in the request. */
      kind: 'bytes';
      /** The encoded image (JPEG, PNG…). */
      bytes: Uint8Array;
      /** Which part of the request it was, for error messages. */
      what: string;
    };

/** How many images one request may carry. */
export const MAX_IMAGES_PER_REQUEST = 32;

const EXPECTED =
  'send {"instances": [{"url": "https://…"} | {"image_bytes": {"b64": …}} | {"b64": …}]}, ' +
  '{"inputs": {"url": …}} (TF Serving\'s columnar form), or a V2 BYTES input of image bytes or URLs';

/**
 * The images a request names, in order. V1 bodies: `{"instances": [...]}` (KServe) or `{"inputs": ...}` (TF
 * Serving's columnar form, one item or a list), each item `{"url"}`, `{"b64"}`, `{"image_bytes": {"b64"}}` or a
 * string (an http(s) URL, or base64); a bare `{"url"}` / `{"b64"}` body too, where the server passes one on
 * (servekit's V1 endpoint asks for `instances` or `inputs` first). V2 requests: the first input, BYTES, one
 * element per image — raw bytes (binary extension, gRPC) or strings (URL or base64). A malformed request is a 400.
 */
export function imageSources(payload: Payload): ImageSource[] {
  let sources: ImageSource[];
  if (isInferRequest(payload)) {
    sources = fromTensor(payload.inputs);
  } else if (Array.isArray(payload.instances)) {
    sources = payload.instances.map((inst, i) => fromItem(inst, `instances[${i}]`));
  } else if (Array.isArray(payload.inputs)) {
    sources = payload.inputs.map((inst, i) => fromItem(inst, `inputs[${i}]`));
  } else if (payload.inputs !== undefined) {
    sources = [fromItem(payload.inputs, 'inputs')];
  } else if (payload.url !== undefined || payload.b64 !== undefined || payload.image_bytes !== undefined) {
    sources = [fromItem(payload, 'the request')];
  } else {
    throw new InvalidInput(`No image in the request: ${EXPECTED}.`);
  }
  if (sources.length === 0) throw new InvalidInput(`The request has no images: ${EXPECTED}.`);
  if (sources.length > MAX_IMAGES_PER_REQUEST) {
    throw new InvalidInput(`The request has ${sources.length} images; at most ${MAX_IMAGES_PER_REQUEST} per request.`);
  }
  return sources;
}

/** One V1 instance (or the whole body): an object with `url`, `b64` or `image_bytes.b64`, or a string. */
function fromItem(item: unknown, what: string): ImageSource {
  if (typeof item === 'string') return fromString(item, what);
  if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
    const o = item as Record<string, unknown>;
    if (typeof o.url === 'string') return { kind: 'url', url: o.url, what: `${what} (${o.url})` };
    const nested = o.image_bytes as Record<string, unknown> | undefined;
    const b64 = o.b64 ?? (nested !== null && typeof nested === 'object' ? nested.b64 : undefined);
    if (typeof b64 === 'string') return { kind: 'bytes', bytes: decodeBase64(b64, what), what };
    if (o.url !== undefined) throw new InvalidInput(`${what}: "url" must be a string.`);
  }
  throw new InvalidInput(`${what} is not an image: ${EXPECTED}.`);
}

/** A string image: an http(s) URL (anything with a scheme goes to the URL check), else base64. */
function fromString(s: string, what: string): ImageSource {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return { kind: 'url', url: s, what: `${what} (${s})` };
  return { kind: 'bytes', bytes: decodeBase64(s, what), what };
}

/** The images of a V2 request's first input: BYTES elements, raw bytes or strings. */
function fromTensor(inputs: InferTensor[]): ImageSource[] {
  const t = inputs[0];
  if (t === undefined || t.datatype !== 'BYTES') {
    throw new InvalidInput(`V2 requests need one BYTES input of images (got ${t ? t.datatype : 'no input'}).`);
  }
  return Array.from(t.data as Array<Uint8Array | string>, (el, i) => {
    const what = `input "${t.name}"[${i}]`;
    return typeof el === 'string' ? fromString(el, what) : { kind: 'bytes' as const, bytes: el, what };
  });
}

/** Strict base64 (standard or URL-safe alphabet, optional `data:image/…;base64,` prefix) → bytes; 400 otherwise. */
export function decodeBase64(s: string, what: string): Uint8Array {
  const body = s.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (body.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(body)) {
    throw new InvalidInput(`${what}: "b64" is not base64.`);
  }
  return Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64');
}
