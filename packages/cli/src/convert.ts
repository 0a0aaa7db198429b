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
  if (handler.name === 'tensorflow') {
    throw new Error(
      `${dir} holds a TensorFlow SavedModel; servekit convert handles scikit-learn, XGBoost and LightGBM`,
    );
  }
  const files = handler.candidates(dir, readdirSync(dir));
  if (handler.name === 'sklearn' && files.length > 1) {
    throw new Error(`${dir} holds several scikit-learn model files (${files.join(', ')}); name one`);
  }
  const file = PREFERRED.find((f) => files.includes(f)) ?? files[0]!;
  return join(dir, file);
}

/** `servekit convert FILE|DIR -o model.onnx`: write the ONNX graph servekit builds for a sklearn or tree model. */
export async function convert(input: string, output: string): Promise<{ file: string; bytes: number }> {
  const file = statSync(input).isDirectory() ? modelFileIn(input) : input;
  const name = basename(file);
  if (name.endsWith('.onnx')) throw new Error(`${file} is already ONNX`);
  const bytes = /\.(joblib|pkl|pickle)$/.test(name) ? await convertSklearn(file) : await convertTrees(file);
  writeFileSync(output, bytes);
  return { file, bytes: bytes.byteLength };
}
