/** Public entry points: load a model.joblib/.pkl into an ONNX graph plus request encoders. */
import { readFile } from 'node:fs/promises';
import { type ConvertedGraph, convertEstimator } from './convert/model.js';
import { readJoblibBytes } from './pickle/joblib.js';
import type { PickleLimits } from './pickle/limits.js';
import { RequestEncoder } from './request-encoding.js';

/** A scikit-learn model converted for onnxruntime: the graph, its input/output meaning, and request encoders. */
export interface ConvertedSklearnModel extends ConvertedGraph {
  /** Encodes V1 instances, column dicts, matrices and dict rows into graph feeds. */
  encoder: RequestEncoder;
}

/** The graph of a converted model with its request encoder attached. */
export function withEncoder(graph: ConvertedGraph): ConvertedSklearnModel {
  return { ...graph, encoder: new RequestEncoder(graph.inputs) };
}

/** The ONNX graph of a joblib/pickle file's bytes, without the encoder (what a load worker sends back). */
export function convertSklearnGraph(bytes: Uint8Array, limits: Partial<PickleLimits> = {}): ConvertedGraph {
  return convertEstimator(readJoblibBytes(bytes, limits));
}

/** Convert the bytes of a joblib/pickle file (restricted unpickling: nothing in the file is executed). */
export function convertSklearnBytes(bytes: Uint8Array, limits: Partial<PickleLimits> = {}): ConvertedSklearnModel {
  return withEncoder(convertSklearnGraph(bytes, limits));
}

/**
 * Load model.joblib / model.pkl / model.pickle and convert it to an in-memory ONNX model, on the calling
 * thread. Servers use `loadSklearnModelIsolated`, which does the same in a worker with a time and memory budget.
 */
export async function loadSklearnModel(
  path: string,
  limits: Partial<PickleLimits> = {},
): Promise<ConvertedSklearnModel> {
  const bytes = await readFile(path);
  return convertSklearnBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), limits);
}

/** The serialized ONNX graph for a scikit-learn model file (for `servekit convert`). */
export async function convert(path: string): Promise<Uint8Array> {
  return (await loadSklearnModel(path)).onnx;
}
