import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { convert as convertSklearn } from '@servekit/sklearn';
import { convert as convertTrees } from '@servekit/xgboost';
import { detectFormat } from './detect.js';

/** Preference when a folder holds several saves of one model (XGBoost fixtures hold all three). */
const PREFERRED = ['model.joblib', 'model.pkl', 'model.pickle', 'model.json', 'model.ubj', 'model.txt', 'model.bst'];

/** The model file `convert` reads from a model folder, detected as `servekit serve` does. */
export function modelFileIn(dir: string): string {
  const handler = detectFormat(dir);
  if (!handler)
    throw new Error(`no model file in ${dir} (looked for model.joblib|.pkl|.pickle, model.json|.ubj|.bst, model.txt)`);
  if (handler.name === 'onnx') throw new Error(`${dir} already holds an ONNX model`);
  const files = handler.candidates(dir, readdirSync(dir));
  if (handler.name === 'sklearn' && files.length > 1) {
    throw new Error(`${dir} holds several scikit-learn model files (${files.join(', ')}); name one`);
  }
  const file = PREFERRED.find((f) => files.includes(f)) ?? files[0]!;
  return join(dir, file);
}

/** Options of `convert`. */
export interface ConvertOptions {
  /** SavedModel signature to lower (default: `serving_default`, or the only servable one). */
  signatureName?: string;
}

/** A SavedModel's signature lowered to ONNX: the graph `--tf_engine onnx` serves, inputs/outputs named by key. */
async function convertSavedModel(dir: string, signatureName: string | undefined): Promise<Uint8Array> {
  const tf = await import('@servekit/tf');
  const frozen = tf.freezeSavedModel(dir);
  const servable = frozen.signatures.filter((s) => s.graph !== undefined);
  const names = frozen.signatures.map((s) => s.info.name).join(', ');
  const wanted =
    signatureName ??
    (frozen.signatures.some((s) => s.info.name === tf.DEFAULT_SIGNATURE)
      ? tf.DEFAULT_SIGNATURE
      : servable.length === 1
        ? servable[0]!.info.name
        : undefined);
  if (wanted === undefined)
    throw new Error(`${dir} has no "${tf.DEFAULT_SIGNATURE}" signature; pass --signature_name (one of ${names})`);
  const sig = frozen.signatures.find((s) => s.info.name === wanted);
  if (sig === undefined) throw new Error(`${dir} has no signature "${wanted}" (it has ${names})`);
  if (sig.graph === undefined) throw new Error(`signature "${wanted}" cannot be served: ${sig.info.unservable}`);
  const missing = tf.unmappedOps(sig.graph);
  if (missing.length > 0) {
    throw new Error(`signature "${wanted}" cannot be lowered to ONNX: no ONNX lowering for op ${missing.join(', ')}`);
  }
  return tf.lowerFrozenGraph(sig.graph).bytes;
}

/**
 * `servekit convert FILE|DIR -o model.onnx`: write the ONNX graph servekit builds for a sklearn or tree model, or
 * the ONNX lowering of a TensorFlow SavedModel signature (`options.signatureName`, default `serving_default`).
 */
export async function convert(
  input: string,
  output: string,
  options: ConvertOptions = {},
): Promise<{ file: string; bytes: number }> {
  if (statSync(input).isDirectory() && detectFormat(input)?.name === 'tensorflow') {
    const bytes = await convertSavedModel(input, options.signatureName);
    writeFileSync(output, bytes);
    return { file: input, bytes: bytes.byteLength };
  }
  if (options.signatureName !== undefined) throw new Error('--signature_name applies to TensorFlow SavedModels only');
  const file = statSync(input).isDirectory() ? modelFileIn(input) : input;
  const name = basename(file);
  if (name.endsWith('.onnx')) throw new Error(`${file} is already ONNX`);
  const bytes = /\.(joblib|pkl|pickle)$/.test(name) ? await convertSklearn(file) : await convertTrees(file);
  writeFileSync(output, bytes);
  return { file, bytes: bytes.byteLength };
}
