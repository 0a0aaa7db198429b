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

/** Options of a TFModel (those of `loadSavedModel`). */
export type TFModelOptions = LoadSavedModelOptions;

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
    try {
      this.handle = await loadSavedModel(this.dir, this.options);
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

  /** V2 metadata of the default signature (or the first servable one). */
  override metadata(): ModelMetadata {
    const sm = this.handle;
    const base: ModelMetadata = { name: this.name, platform: 'tensorflow_savedmodel', inputs: [], outputs: [] };
    if (sm === undefined) return base;
    const sig =
      sm.signatures.find((s) => s.name === sm.defaultSignature && s.unservable === undefined) ??
      sm.signatures.find((s) => s.unservable === undefined);
    if (sm.version !== undefined) base.versions = [sm.version];
    if (sig === undefined) return base;
    return { ...base, inputs: sig.inputs, outputs: sig.outputs };
  }

  /** Free engine memory. */
  override unload(): void {
    this.handle?.dispose();
    this.handle = undefined;
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
