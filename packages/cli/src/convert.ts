import { statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { convert as convertSklearn } from '@servekit/sklearn';
import { convert as convertTrees } from '@servekit/xgboost';

/** `servekit convert FILE -o model.onnx`: write the ONNX graph servekit builds for a sklearn or tree model. */
export async function convert(input: string, output: string): Promise<number> {
  if (statSync(input).isDirectory()) {
    throw new Error(`${input} is a directory: name the model file (model.joblib, model.json, model.bst, model.txt…)`);
  }
  const file = basename(input);
  const bytes = /\.(joblib|pkl|pickle)$/.test(file) ? await convertSklearn(input) : await convertTrees(input);
  writeFileSync(output, bytes);
  return bytes.byteLength;
}
