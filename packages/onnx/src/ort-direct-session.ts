/**
 * onnxruntime-node's native session, run directly and synchronously. The public API (onnxruntime-common's
 * `InferenceSession.run` over onnxruntime-node's backend) validates its arguments, builds a fetches object, defers
 * every run to a `setImmediate` inside a new promise and re-checks every output; for a model that runs in
 * microseconds that JS costs as much as the run. The native `binding.InferenceSession` (what onnxruntime-node's
 * `dist/backend.js` drives) takes plain `{location, type, dims, data}` tensors and answers onnxruntime-common Tensors.
 *
 * The binding is an internal of onnxruntime-node: it is found beside the package's main file (the package directory
 * resolved from here, so it works from the esbuild bundle, which keeps onnxruntime-node external, and from an
 * installed tarball) and checked for the shape servekit uses. Where it is missing or differs (another
 * onnxruntime-node version), or `SERVEKIT_ORT_API=public`, sessions use the public API instead, with the same outputs.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { SessionInfo, WireTensor } from './session-wire.js';

/** Which onnxruntime API a session runs on: the native binding directly, or onnxruntime-node's public API. */
export type OrtApi = 'direct' | 'public';

/** The environment variable that forces the public onnxruntime API (`public`); anything else allows the direct one. */
export const ORT_API_ENV = 'SERVEKIT_ORT_API';

/** A tensor as the native run reads it. */
interface NativeTensor {
  location: 'cpu';
  type: ort.Tensor.Type;
  dims: readonly number[];
  data: ort.Tensor.DataType;
}

/** An input or output as the native session describes it. */
interface NativeValueMetadata {
  name: string;
  isTensor: boolean;
  type?: number;
  shape?: number[];
  symbolicDimensions?: string[];
}

/** The native `binding.InferenceSession` (onnxruntime-node 1.2x–1.30 `dist/binding.js`). */
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, NativeTensor>, fetches: Record<string, null>, options: object): Record<string, ort.Tensor>;
  dispose(): void;
  readonly inputMetadata: NativeValueMetadata[];
  readonly outputMetadata: NativeValueMetadata[];
}

/** onnxruntime-node's `dist/binding.js` exports. */
interface BindingModule {
  binding: {
    InferenceSession: new () => NativeSession;
    listSupportedBackends(): Array<{ name: string }>;
  };
  initOrt(): void;
}

// onnxruntime-node's `dataTypeStrings` (dist/backend.js): ONNX element type → onnxruntime-common tensor type.
const DATA_TYPES: ReadonlyArray<ort.Tensor.Type | undefined> = [
  undefined,
  'float32',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'float64',
  'uint32',
  'uint64',
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  'uint4',
  'int4',
];

const NO_RUN_OPTIONS = Object.freeze({});

let bindingModule: BindingModule | null | undefined;

/** The native binding when it is there and has the expected shape; `null` otherwise (checked once per thread). */
function nativeBinding(): BindingModule | null {
  if (bindingModule !== undefined) return bindingModule;
  bindingModule = null;
  try {
    const require = createRequire(import.meta.url);
    // The package's main file is dist/index.js; binding.js sits beside it. Loaded by absolute path: the package's
    // `exports` (if a version adds one) cannot refuse it, and Node's module cache shares it with onnxruntime-node.
    const mod = require(join(dirname(require.resolve('onnxruntime-node')), 'binding.js')) as Partial<BindingModule>;
    const proto = (mod.binding?.InferenceSession as { prototype?: Record<string, unknown> } | undefined)?.prototype;
    if (
      typeof mod.initOrt === 'function' &&
      typeof mod.binding?.listSupportedBackends === 'function' &&
      typeof proto?.loadModel === 'function' &&
      typeof proto.run === 'function' &&
      typeof proto.dispose === 'function'
    ) {
      bindingModule = mod as BindingModule;
    }
  } catch {
    // No binding where expected: the public API serves.
  }
  return bindingModule;
}

/** The API a new session runs on: the direct one unless `SERVEKIT_ORT_API=public` or the binding is unusable. */
export function ortApi(): OrtApi {
  return process.env[ORT_API_ENV] === 'public' || !nativeBinding() ? 'public' : 'direct';
}

/** A native metadata array in the public API's form; undefined if it does not have the expected shape. */
function publicMetadata(raw: unknown): ort.InferenceSession.ValueMetadata[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: ort.InferenceSession.ValueMetadata[] = [];
  for (const m of raw as NativeValueMetadata[]) {
    if (typeof m?.name !== 'string' || typeof m.isTensor !== 'boolean') return undefined;
    if (!m.isTensor) {
      out.push({ name: m.name, isTensor: false });
      continue;
    }
    if (typeof m.type !== 'number' || !Array.isArray(m.shape)) return undefined;
    const type = DATA_TYPES[m.type];
    if (type === undefined) throw new Error(`Unsupported data type: ${m.type}`);
    const shape: Array<number | string> = [];
    for (let i = 0; i < m.shape.length; i++) {
      const dim = m.shape[i]!;
      if (dim === -1) shape.push(m.symbolicDimensions?.[i] ?? '');
      else if (dim >= 0) shape.push(dim);
      else throw new Error(`Invalid dimension: ${dim}`);
    }
    out.push({ name: m.name, isTensor: true, type, shape });
  }
  return out;
}

/** The execution providers' names of session options. */
function providerNames(options: ort.InferenceSession.SessionOptions): string[] {
  return (options.executionProviders ?? []).map((ep) => (typeof ep === 'string' ? ep : ep.name));
}

/**
 * A session on onnxruntime-node's native binding: `run` blocks the calling thread for the inference and returns its
 * outputs, with no promise, timer or argument re-validation around it.
 */
export class DirectSession {
  /** Every output, fetched by each run (what the public API fetches when none are named). */
  private readonly fetches: Record<string, null> = {};
  private released = false;

  private constructor(
    private readonly native: NativeSession,
    /** The session's input and output metadata, as the public API reports them. */
    readonly info: SessionInfo,
  ) {
    for (const m of info.outputMetadata) this.fetches[m.name] = null;
  }

  /**
   * A session from ModelProto bytes on the native binding; undefined when the public API must serve instead (forced,
   * no usable binding, an execution provider the binding does not list, metadata of another shape).
   */
  static create(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): DirectSession | undefined {
    if (ortApi() !== 'direct') return undefined;
    const mod = nativeBinding()!;
    const supported = new Set(mod.binding.listSupportedBackends().map((b) => b.name));
    // An unknown provider is refused (or dropped, with a warning) by the public API: leave that to it.
    if (!providerNames(options).every((name) => supported.has(name))) return undefined;
    mod.initOrt();
    const native = new mod.binding.InferenceSession();
    // As the public API passes them: the providers list always set.
    native.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
      ...options,
      executionProviders: options.executionProviders ?? [],
    });
    const inputMetadata = publicMetadata(native.inputMetadata);
    const outputMetadata = publicMetadata(native.outputMetadata);
    if (!inputMetadata || !outputMetadata) {
      native.dispose();
      return undefined;
    }
    return new DirectSession(native, { inputMetadata, outputMetadata });
  }

  /**
   * Run on `feeds` (every input; a tensor with `location: 'cpu'` is passed as it is) and return every output, as
   * onnxruntime-common Tensors. Blocks the calling thread for the whole inference; throws onnxruntime's error.
   */
  run(feeds: Record<string, WireTensor>): Record<string, ort.Tensor> {
    if (this.released) throw new Error('the onnxruntime session is released');
    for (const m of this.info.inputMetadata) {
      if (feeds[m.name] === undefined) throw new Error(`input '${m.name}' is missing in 'feeds'.`);
    }
    let native = feeds as Record<string, NativeTensor>;
    for (const name in feeds) {
      if (feeds[name]!.location !== 'cpu') {
        native = nativeFeeds(feeds);
        break;
      }
    }
    return this.native.run(native, this.fetches, NO_RUN_OPTIONS);
  }

  /** Free the native session (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.native.dispose();
  }
}

/** Feeds as the native run reads them. */
function nativeFeeds(feeds: Record<string, WireTensor>): Record<string, NativeTensor> {
  const out: Record<string, NativeTensor> = {};
  for (const name in feeds) {
    const t = feeds[name]!;
    out[name] = { location: 'cpu', type: t.type, dims: t.dims, data: t.data };
  }
  return out;
}
