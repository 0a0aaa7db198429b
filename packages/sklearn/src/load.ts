/** Public entry points: load a model.joblib/.pkl into an ONNX graph plus request encoders. */
import { readFile } from 'node:fs/promises';
import { type ConvertedGraph, convertEstimator } from './convert/model.js';
import { readJoblibBytes } from './pickle/joblib.js';
import { RequestEncoder } from './request-encoding.js';

/** A scikit-learn model converted for onnxruntime: the graph, its input/output meaning, and request encoders. */
export interface ConvertedSklearnModel extends ConvertedGraph {
  /** Encodes V1 instances, column dicts, matrices and dict rows into graph feeds. */
  encoder: RequestEncoder;
}

/** Convert the bytes of a joblib/pickle file (restricted unpickling: nothing in the file is executed). */
export function convertSklearnBytes(bytes: Uint8Array): ConvertedSklearnModel {
  const graph = convertEstimator(readJoblibBytes(bytes));
  return { ...graph, encoder: new RequestEncoder(graph.inputs) };
}

/** Load model.joblib / model.pkl / model.pickle and convert it to an in-memory ONNX model. */
export async function loadSklearnModel(path: string): Promise<ConvertedSklearnModel> {
  const bytes = await readFile(path);
  return convertSklearnBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** The serialized ONNX graph for a scikit-learn model file (for `servekit convert`). */
export async function convert(path: string): Promise<Uint8Array> {
  return (await loadSklearnModel(path)).onnx;
}
