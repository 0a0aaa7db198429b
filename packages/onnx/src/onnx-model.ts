import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ClassLabelProvider,
  type Datatype,
  elementCount,
  type InferContext,
  InferenceError,
  type InferRequest,
  type InferResponse,
  type InferTensor,
  InvalidInput,
  isInferRequest,
  isTruthy,
  Model,
  ModelLoadError,
  type ModelMetadata,
  type Parameters,
  type Payload,
  type Result,
  type TensorMetadata,
  tensorFromJson,
  tensorToJson,
  type V1Request,
} from '@servekit/core';
import { concatTensors, sliceTensor } from '@servekit/core/wire';
import type * as ort from 'onnxruntime-node';
import { AdaptiveSession } from './adaptive-session.js';
import { V2_TO_ORT, v2Datatype } from './dtype-map.js';
import { castInput, checkOnnxStrings } from './input-cast.js';
import {
  MainThreadSession,
  type SessionInfo,
  type SessionRunner,
  type WireTensor,
  WorkerSession,
} from './session-worker.js';
import type { ZipMapRewrite } from './zipmap.js';
import { mayHoldZipMap } from './zipmap-probe.js';

/** `stripZipMap` of `bytes`, its module (and protobufjs under it) loaded on first use. */
async function stripZipMapOf(bytes: Uint8Array): Promise<ZipMapRewrite> {
  const { stripZipMap } = await import('./zipmap.js');
  return stripZipMap(bytes);
}

/** Options of an OnnxModel. */
export interface OnnxModelOptions {
  /** Directory holding `model.onnx` or a single `*.onnx` file. */
  modelDir?: string;
  /** Path of the ONNX file (instead of modelDir). */
  modelPath?: string;
  /** An in-memory ModelProto (what the sklearn/XGBoost/TF converters produce). */
  modelBytes?: Uint8Array;
  /** onnxruntime session options: intra/inter-op threads, graph optimization level, execution providers… */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** V1 answers (and V2 when asked) carry class probabilities instead of labels (`--predict_proba`). */
  predictProba?: boolean;
  /** Platform reported in metadata. Default `onnxruntime_onnx`. */
  platform?: string;
  /**
   * Where the session runs: `auto` (default) runs a small model on the event loop thread and moves it to a worker
   * thread once its measured runs block the loop (a large model file starts there; `AdaptiveSession`); `worker`
   * always keeps inference off the event loop in a worker thread; `main` always runs it on the event loop thread
   * (onnxruntime-node's run is synchronous), lowest latency for tiny models but it stalls other requests for the
   * duration of each run.
   */
  execution?: 'auto' | 'worker' | 'main';
}

const utf8 = new TextDecoder();

/**
 * Session defaults: onnxruntime's pool threads sleep instead of spinning between runs. Spinning threads
 * take the cores the event loop and the network need; on 2 cores this raised batched MLP throughput
 * from 4.8k to 6.6k req/s and mlp_784 from 6.9k to 12.4k (bench/RESULTS.md). User options override it.
 */
export const DEFAULT_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

/** Find the ONNX file of a model directory: `model.onnx`, else the only `*.onnx`. */
export async function findOnnxFile(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.onnx')).sort();
  if (files.includes('model.onnx')) return join(dir, 'model.onnx');
  if (files.length === 1) return join(dir, files[0]!);
  if (files.length === 0) throw new Error(`no .onnx file in ${dir}`);
  throw new Error(`${dir} holds several .onnx files (${files.join(', ')}); name the one to serve model.onnx`);
}

/**
 * A model served by onnxruntime-node: any ONNX file (skl2onnx, onnxmltools, PyTorch export…) or an
 * in-memory ModelProto from servekit's converters. Inference runs on ORT's threads, off the event loop.
 * ZipMap outputs become probability tensors under the names the file declares (their class labels serve the
 * classification extension); inputs are checked against the
 * session metadata before each run (see `castInput` for the accepted datatype conversions).
 */
export class OnnxModel extends Model implements ClassLabelProvider {
  /** The session (after load). */
  protected session?: SessionRunner;
  /** Input metadata (after load). */
  inputs: TensorMetadata[] = [];
  /** Output metadata (after load). */
  outputs: TensorMetadata[] = [];
  /** True when every input's batch dim is fixed to 1 (then several rows run one by one). */
  private fixedBatchOne = false;
  /** The class-probability output (`predict_proba`): a ZipMap's output name, else `probabilities`. */
  private probabilityOutput = 'probabilities';
  /** The predicted-label output V1 answers with: the ZipMap classifier's label output, else `label`. */
  private labelOutput = 'label';
  /** Class labels of probability outputs, from their ZipMap. */
  private readonly outputClassLabels = new Map<string, string[]>();

  constructor(
    name: string,
    readonly options: OnnxModelOptions,
  ) {
    super(name);
  }

  override async load(): Promise<void> {
    try {
      const bytes = await this.modelBytes();
      const sessionOptions = { ...DEFAULT_SESSION_OPTIONS, ...this.options.sessionOptions };
      const open = (b: Uint8Array): Promise<{ session: SessionRunner; info: SessionInfo }> =>
        this.options.execution === 'main'
          ? MainThreadSession.create(b, sessionOptions)
          : this.options.execution === 'worker'
            ? WorkerSession.create(b, sessionOptions)
            : AdaptiveSession.create(b, sessionOptions);
      // A file that names a ZipMap is rewritten before its first session, so a classifier's session is created once.
      // (Should that decode fail, the file is opened as it is and rewritten only if its outputs need it, as before.)
      let rewrite = mayHoldZipMap(bytes) ? await stripZipMapOf(bytes).catch(() => undefined) : undefined;
      let { session, info } = await open(rewrite?.rewritten ? rewrite.bytes : bytes);
      const nonTensorIn = info.inputMetadata.filter((m) => !m.isTensor).map((m) => m.name);
      if (nonTensorIn.length > 0) {
        await session.release();
        throw new Error(
          `input ${nonTensorIn.map((n) => `"${n}"`).join(', ')} is not a tensor (map or sequence, e.g. DictVectorizer); onnxruntime-node cannot feed it. Serve the original model.joblib with servekit's sklearn support instead.`,
        );
      }
      if (!rewrite?.rewritten && info.outputMetadata.some((m) => !m.isTensor)) {
        await session.release();
        rewrite = await stripZipMapOf(bytes);
        ({ session, info } = await open(rewrite.bytes));
      }
      if (rewrite?.rewritten) {
        const [first] = rewrite.probabilities;
        if (first) this.probabilityOutput = first.name;
        if (rewrite.labelOutput) this.labelOutput = rewrite.labelOutput;
        for (const p of rewrite.probabilities) {
          if (p.classLabels.length > 0) this.outputClassLabels.set(p.name, p.classLabels);
        }
      }
      const still = info.outputMetadata.filter((m) => !m.isTensor).map((m) => m.name);
      if (still.length > 0) {
        await session.release();
        throw new Error(`output ${still.join(', ')} is not a tensor and is not a ZipMap`);
      }
      this.session = session;
      this.inputs = info.inputMetadata.map(toTensorMetadata);
      this.outputs = info.outputMetadata.map(toTensorMetadata);
      this.fixedBatchOne = this.inputs.every((m) => m.shape.length > 0 && m.shape[0] === 1);
    } catch (err) {
      throw new ModelLoadError(this.name, (err as Error).message);
    }
  }

  /** The ModelProto to serve: `modelBytes`, else the file. Converters override it to build the graph at load. */
  protected async modelBytes(): Promise<Uint8Array> {
    if (this.options.modelBytes) return this.options.modelBytes;
    const path = this.options.modelPath ?? (await findOnnxFile(this.options.modelDir ?? '.'));
    return new Uint8Array(await readFile(path));
  }

  /** Class labels of a ZipMap classifier's probability output (classification extension). */
  classLabels(output: string): readonly string[] | undefined {
    return this.outputClassLabels.get(output);
  }

  override metadata(): ModelMetadata {
    return {
      name: this.name,
      platform: this.options.platform ?? 'onnxruntime_onnx',
      inputs: this.inputs,
      outputs: this.outputs,
    };
  }

  /** Release the session and its worker; idempotent (a second call finds no session). */
  override async unload(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.release();
  }

  override predict(payload: Payload, _ctx: InferContext): Promise<Result> {
    if (!isInferRequest(payload)) return this.predictV1(payload);
    // A V2 request hands infer's promise on as it is (no async frame of its own).
    if (!isTruthy(payload.parameters?.predict_proba)) return this.infer(payload);
    return this.infer(payload).then((res) => {
      res.outputs = [this.probabilities(res)];
      return res;
    });
  }

  /** Answer a V1 request: its predictions, or class probabilities when asked (or by option, for a classifier). */
  private async predictV1(payload: V1Request): Promise<Result> {
    const res = await this.infer(this.v1ToRequest(payload));
    const asked = payload.parameters?.predict_proba;
    // Asked per request: a model without probabilities is a 400. The server-wide option only applies to
    // classifiers, so a regressor served next to them (multi-model dir) keeps answering its values.
    const proba =
      asked !== undefined && asked !== null
        ? isTruthy(asked)
        : this.options.predictProba === true && res.outputs.some((t) => t.name === this.probabilityOutput);
    const out = proba ? this.probabilities(res) : this.predictionOutput(res);
    const value = tensorToJson(out);
    return { predictions: Array.isArray(value) ? value : [value] };
  }

  /**
   * Run a V2 request: inputs checked and cast, rows one by one for fixed-batch-1 models. Not an async function: a
   * single run's promise is chained once, with callbacks made once per model (an async frame costs its registers).
   */
  infer(request: InferRequest): Promise<InferResponse> {
    try {
      const session = this.session;
      if (!session) throw new ModelLoadError(this.name, 'not loaded');
      const inputs = this.checkedInputs(request);
      const rows = inputs[0]?.shape[0] ?? 1;
      if (this.fixedBatchOne) {
        if (inputs.some((t) => t.shape[0] !== rows)) {
          throw new InvalidInput(
            `Model ${this.name} runs one row at a time: every input needs the same number of rows (got ${inputs.map((t) => `${t.name} ${JSON.stringify(t.shape)}`).join(', ')}).`,
          );
        }
        if (rows > 1) {
          return this.runRowByRow(session, inputs, rows).then((outputs) => ({ model_name: this.name, outputs }));
        }
      }
      return session.run(feedsOf(inputs)).then(this.response, this.runFailed);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The request's tensors for the model's inputs, in its input order, checked and cast (`castInput`). */
  private checkedInputs(request: InferRequest): InferTensor[] {
    const metas = this.inputs;
    // A single-input model takes the request's single tensor whatever its name (KServe clients send `input-0`).
    const sole = metas.length === 1 && request.inputs.length === 1;
    const inputs = new Array<InferTensor>(metas.length);
    for (let i = 0; i < metas.length; i++) {
      const meta = metas[i]!;
      const t = sole ? soleInput(request.inputs[0]!, meta.name) : request.inputs.find((x) => x.name === meta.name);
      if (!t) {
        throw new InvalidInput(
          `Model ${this.name} needs input "${meta.name}" (${meta.datatype} ${JSON.stringify(meta.shape)}); got ${request.inputs.map((x) => `"${x.name}"`).join(', ')}.`,
        );
      }
      const cast = castInput(t, meta, this.fixedBatchOne);
      if (cast.datatype === 'BYTES') checkOnnxStrings(cast);
      inputs[i] = cast;
    }
    const extra = sole ? undefined : request.inputs.find((t) => !metas.some((m) => m.name === t.name));
    if (extra) {
      throw new InvalidInput(
        `Model ${this.name} has no input "${extra.name}" (inputs: ${metas.map((m) => m.name).join(', ')}).`,
      );
    }
    return inputs;
  }

  /** A run's outputs as the V2 response (made once per model: `infer` chains it on every run). */
  private readonly response = (result: Record<string, WireTensor>): InferResponse => ({
    model_name: this.name,
    outputs: this.answerOf(result),
  });

  /** onnxruntime's failure as the InferenceError answered (made once per model). */
  private readonly runFailed = (err: unknown): never => {
    throw new InferenceError(`Model ${this.name}: onnxruntime failed: ${(err as Error).message}`);
  };

  /** One session run. */
  private run(session: SessionRunner, inputs: InferTensor[]): Promise<InferTensor[]> {
    return session.run(feedsOf(inputs)).then((result) => this.answerOf(result), this.runFailed);
  }

  /** A run's outputs as response tensors, in the model's output order. */
  private answerOf(result: Record<string, WireTensor>): InferTensor[] {
    const outputs = this.outputs;
    const answer = new Array<InferTensor>(outputs.length);
    for (let i = 0; i < outputs.length; i++) {
      const name = outputs[i]!.name;
      answer[i] = fromWire(name, result[name]!);
    }
    return answer;
  }

  private async runRowByRow(session: SessionRunner, inputs: InferTensor[], rows: number): Promise<InferTensor[]> {
    const parts: InferTensor[][] = [];
    for (let r = 0; r < rows; r++)
      parts.push(
        await this.run(
          session,
          inputs.map((t) => sliceTensor(t, r, r + 1)),
        ),
      );
    // A scalar output of one row counts as one row of shape [1].
    return parts[0]!.map((_, i) =>
      concatTensors(parts.map((p) => (p[i]!.shape.length === 0 ? { ...p[i]!, shape: [1] } : p[i]!))),
    );
  }

  /** A V1 body as a V2 request: `instances` rows → the single input, or dict rows → one input per key. */
  v1ToRequest(body: V1Request): InferRequest {
    const instances = body.instances ?? (Array.isArray(body.inputs) ? body.inputs : undefined);
    if (!Array.isArray(instances) || instances.length === 0) {
      throw new InvalidInput('V1 request needs a non-empty "instances" list.');
    }
    const first = instances[0];
    if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
      // Rows of {feature: value}: one model input per feature (e.g. a ColumnTransformer pipeline).
      return {
        inputs: this.inputs.map((meta) => {
          const column = instances.map((row, i) => {
            const v = (row as Record<string, unknown>)[meta.name];
            if (v === undefined)
              throw new InvalidInput(
                `instances[${i}] has no "${meta.name}" (model inputs: ${this.inputs.map((m) => m.name).join(', ')}).`,
              );
            return v;
          });
          return fitShape(tensorFromJson(meta.name, column, meta.datatype), meta);
        }),
      };
    }
    if (this.inputs.length !== 1) {
      throw new InvalidInput(
        `Model ${this.name} has ${this.inputs.length} inputs (${this.inputs.map((m) => m.name).join(', ')}); send instances as objects keyed by input name.`,
      );
    }
    const meta = this.inputs[0]!;
    return { inputs: [fitShape(tensorFromJson(meta.name, instances, meta.datatype), meta)] };
  }

  private probabilities(res: InferResponse): InferTensor {
    const p = res.outputs.find((t) => t.name === this.probabilityOutput);
    if (!p)
      throw new InvalidInput(
        `Model ${this.name} has no probabilities output (outputs: ${res.outputs.map((t) => t.name).join(', ')}).`,
      );
    return p;
  }

  private predictionOutput(res: InferResponse): InferTensor {
    return res.outputs.find((t) => t.name === this.labelOutput) ?? res.outputs[0]!;
  }
}

function toTensorMetadata(m: ort.InferenceSession.ValueMetadata): TensorMetadata {
  if (!m.isTensor) throw new Error(`"${m.name}" is not a tensor`);
  return {
    name: m.name,
    datatype: v2Datatype(m.type),
    shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  };
}

/** V1 rows often come one level flatter than the model's rank (e.g. ["a","b"] for string[?,1]): add the dims. */
function fitShape(t: InferTensor, meta: TensorMetadata): InferTensor {
  if (t.shape.length === meta.shape.length || meta.shape.length === 0) return t;
  const fixed = meta.shape.slice(1);
  if (fixed.every((d) => d > 0)) {
    const per = elementCount(fixed);
    const n = elementCount(t.shape);
    if (n % per === 0) return { ...t, shape: [n / per, ...fixed] };
  }
  return t;
}

/** The request's single tensor under the model's single input name (the same object when the names match). */
function soleInput(t: InferTensor, name: string): InferTensor {
  return t.name === name ? t : { ...t, name };
}

/** Request tensors as a run's feeds, by input name. */
function feedsOf(inputs: InferTensor[]): Record<string, WireTensor> {
  const feeds: Record<string, WireTensor> = {};
  for (const t of inputs) feeds[t.name] = toWire(t);
  return feeds;
}

/** A request tensor as an onnxruntime feed (`location: 'cpu'`: the direct session passes it as it is). */
function toWire(t: InferTensor): WireTensor {
  const type = V2_TO_ORT[t.datatype];
  if (!type) throw new InvalidInput(`Input "${t.name}": onnxruntime cannot take ${t.datatype}.`);
  if (t.datatype === 'BYTES') {
    const strings = (t.data as Array<Uint8Array | string>).map((b) => (typeof b === 'string' ? b : utf8.decode(b)));
    return { location: 'cpu', type: 'string', dims: t.shape, data: strings };
  }
  return { location: 'cpu', type, dims: t.shape, data: t.data as Float32Array };
}

/** A run's output as a response tensor; its dims (a fresh array per run) become the shape as they are. */
function fromWire(name: string, t: WireTensor): InferTensor {
  const datatype: Datatype = v2Datatype(t.type);
  return { name, datatype, shape: t.dims, data: t.data as InferTensor['data'] };
}

/** Request parameters of a V2 request, for subclasses. */
export type { Parameters };
