import { basename } from 'node:path';
import {
  type InferContext,
  type InferResponse,
  InvalidInput,
  isInferRequest,
  Model,
  ModelLoadError,
  type ModelMetadata,
  ModelNotReady,
  type Payload,
  type Result,
  type V1Request,
} from '@servekit/core';
import { type LoadSavedModelOptions, loadSavedModel, type SavedModelHandle } from '../saved-model/load.js';
import { discoverSavedModelVersions } from '../saved-model/versions.js';
import { decodeV1, encodeV1 } from './v1-tf-serving.js';

/** Options of a TFModel (those of `loadSavedModel`; log lines are prefixed with the model name and version). */
export type TFModelOptions = LoadSavedModelOptions;

/**
 * V2 model metadata of a TFModel. `parameters` (the optional model-metadata `parameters` of the Open Inference
 * Protocol, as MLServer reports them) say which engine serves the described signature and every signature:
 * `{"signature_name": "serving_default", "engine": "onnx", "signature_engines": "serving_default=onnx,train=unservable"}`.
 */
export interface TFModelMetadata extends ModelMetadata {
  /** `signature_name`, `engine` (of that signature) and `signature_engines` (`name=engine`, comma separated). */
  parameters?: Record<string, string>;
}

/** The request parameter (V2 `parameters`, or the V1 body field as in TF Serving) that picks a signature. */
export const SIGNATURE_PARAM = 'signature_name';

/** The signature a request names: V2/V1 `parameters.signature_name`, or the V1 body's top-level `signature_name`. */
export function requestedSignature(payload: Payload): string | undefined {
  const fromParams = payload.parameters?.[SIGNATURE_PARAM];
  const fromBody = isInferRequest(payload) ? undefined : (payload as V1Request)[SIGNATURE_PARAM];
  const value = fromParams ?? fromBody;
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidInput(`"${SIGNATURE_PARAM}" must be a string.`);
  return value;
}

/**
 * A TensorFlow SavedModel served through tfjs (no libtensorflow). Every signature is reachable: the default is
 * `serving_default`, others via the `signature_name` request parameter. V1 requests follow TF Serving's REST
 * semantics (`instances` rows / `inputs` columnar → `predictions` / `outputs`); V2 requests name signature inputs.
 */
export class TFModel extends Model {
  /** SavedModel directory (or TF Serving model root: the newest version is loaded unless `options.version`). */
  readonly dir: string;
  /** Load options. */
  readonly options: TFModelOptions;
  private handle: SavedModelHandle | undefined;

  constructor(name: string, dir: string, options: TFModelOptions = {}) {
    super(name);
    this.dir = dir;
    this.options = options;
  }

  /** Read, freeze and load every signature; throws ModelLoadError naming the file and problem. */
  override async load(): Promise<void> {
    const log = this.options.logger;
    const folder = basename(this.dir);
    const where = `model "${this.name}"${/^\d+$/.test(folder) ? ` version ${Number(folder)}` : ''}`;
    const logger = log && {
      info: (m: string) => log.info(`${where}: ${m}`),
      warn: (m: string) => log.warn(`${where}: ${m}`),
    };
    try {
      this.handle = await loadSavedModel(this.dir, { ...this.options, logger });
    } catch (err) {
      throw new ModelLoadError(this.name, (err as Error).message);
    }
  }

  /** The loaded SavedModel; throws ModelNotReady before `load()`. */
  get savedModel(): SavedModelHandle {
    if (this.handle === undefined) throw new ModelNotReady(this.name);
    return this.handle;
  }

  /** Run the requested signature on a V1 body or V2 request. */
  override async predict(payload: Payload, _ctx?: InferContext): Promise<Result> {
    const sm = this.savedModel;
    const sig = sm.signature(requestedSignature(payload));
    if (isInferRequest(payload)) {
      const outputs = await sm.run(sig.name, payload.inputs);
      let selected = outputs;
      if (payload.outputs !== undefined && payload.outputs.length > 0) {
        selected = payload.outputs.map((o) => {
          const found = outputs.find((t) => t.name === o.name);
          if (found === undefined) {
            throw new InvalidInput(
              `Signature "${sig.name}" has no output "${o.name}" (outputs: ${outputs.map((t) => t.name).join(', ')}).`,
            );
          }
          return o.parameters === undefined ? found : { ...found, parameters: o.parameters };
        });
      }
      const res: InferResponse = { model_name: this.name, outputs: selected };
      if (sm.version !== undefined) res.model_version = sm.version;
      if (payload.id !== undefined) res.id = payload.id;
      return res;
    }
    const decoded = decodeV1(payload, sig.inputs);
    const outputs = await sm.run(sig.name, decoded.inputs);
    return encodeV1(outputs, decoded.format);
  }

  /** V2 metadata of the default signature (or the first servable one), with the engines in `parameters`. */
  override metadata(): TFModelMetadata {
    const sm = this.handle;
    const base: TFModelMetadata = { name: this.name, platform: 'tensorflow_savedmodel', inputs: [], outputs: [] };
    if (sm === undefined) return base;
    const sig =
      sm.signatures.find((s) => s.name === sm.defaultSignature && s.unservable === undefined) ??
      sm.signatures.find((s) => s.unservable === undefined);
    if (sm.version !== undefined) base.versions = [sm.version];
    const engines = sm.signatures.map((s) => `${s.name}=${s.engine ?? 'unservable'}`).join(',');
    if (sig === undefined) return { ...base, parameters: { signature_engines: engines } };
    return {
      ...base,
      inputs: sig.inputs,
      outputs: sig.outputs,
      parameters: { signature_name: sig.name, engine: sig.engine ?? 'tfjs', signature_engines: engines },
    };
  }

  /** Free engine memory (and onnxruntime worker threads). */
  override async unload(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.dispose();
  }
}

/** One TFModel per SavedModel version under `dir` (TF Serving layout), oldest first; unversioned for a bare dir. */
export function tfModelsFromDir(
  name: string,
  dir: string,
  options: TFModelOptions = {},
): Array<{ model: TFModel; version?: string }> {
  return discoverSavedModelVersions(dir).map((v) =>
    v.version === undefined
      ? { model: new TFModel(name, v.path, options) }
      : { model: new TFModel(name, v.path, options), version: v.version },
  );
}
