import type * as ort from 'onnxruntime-node';

/** onnxruntime session options (intra/inter-op threads, graph optimization level, execution providers…). */
export type OrtSessionOptions = ort.InferenceSession.SessionOptions;
