/**
 * What crosses the thread boundary between `WorkerSession` and its session thread: the messages, tensors as plain
 * data, the float16 handling both sides of an onnxruntime session share, and the public-API session both the session
 * thread and `MainThreadSession` fall back to.
 */
import type * as ort from 'onnxruntime-node';
import type { OrtApi } from './ort-direct-session.js';

/** A tensor crossing the thread boundary: plain data, the typed array's buffer transferred. */
export interface WireTensor {
  /** ORT type. */
  type: ort.Tensor.Type;
  /** Dims. */
  dims: number[];
  /** Elements (strings for `string`). */
  data: ort.Tensor.DataType;
  /** `cpu` where the producer built the tensor for onnxruntime: the direct session passes it to the native run as is. */
  location?: 'cpu';
}

/** Input/output metadata reported by the worker's session. */
export interface SessionInfo {
  /** `session.inputMetadata`. */
  inputMetadata: ort.InferenceSession.ValueMetadata[];
  /** `session.outputMetadata`. */
  outputMetadata: ort.InferenceSession.ValueMetadata[];
}

/** A request to the session thread, answered by a `ThreadReply` with the same `id`. */
export type ThreadRequest =
  | { id: number; type: 'load'; bytes: Uint8Array; options: ort.InferenceSession.SessionOptions }
  | { id: number; type: 'run'; feeds: Record<string, WireTensor> }
  | { id: number; type: 'release' };

/** The session thread's answer: `info` to a load, `outputs` to a run, `error` when the request failed. */
export interface ThreadReply {
  /** The request's id. */
  id: number;
  /** The session's metadata (load). */
  info?: SessionInfo;
  /** The onnxruntime API the session runs on (load). */
  api?: OrtApi;
  /** Every output (run). */
  outputs?: Record<string, WireTensor>;
  /** The failure's message. */
  error?: string;
}

// FP16 tensors are Uint16Array bit patterns in servekit. Where the runtime has a global Float16Array (Node >= 24),
// onnxruntime-common turns Uint16Array float16 data into a Float16Array view, which onnxruntime-node's native
// binding cannot read ("not enough space"), and answers float16 outputs as Float16Array: keep the bit patterns.

/** The tensor holding `bits` as its float16 data (onnxruntime-node reads Uint16Array only). */
export function fp16Tensor(tensor: ort.Tensor, bits: unknown): ort.Tensor {
  if (tensor.type === 'float16' && bits instanceof Uint16Array && !(tensor.data instanceof Uint16Array)) {
    (tensor as unknown as { cpuData: Uint16Array }).cpuData = bits;
  }
  return tensor;
}

/** A tensor's data, float16 as Uint16Array bit patterns (a view, no copy). */
function fp16Bits(t: { type: string; data: ort.Tensor.DataType }): ort.Tensor.DataType {
  if (t.type !== 'float16' || t.data instanceof Uint16Array) return t.data;
  const view = t.data as unknown as ArrayBufferView & { length: number };
  return new Uint16Array(view.buffer, view.byteOffset, view.length);
}

/** An output tensor as plain data for the wire, float16 as bit patterns; its dims (a fresh array per run) are shared. */
export function toWire(t: ort.Tensor): WireTensor {
  return { type: t.type, dims: t.dims as number[], data: fp16Bits(t) };
}

/** Every output of a run as plain data for the wire (`toWire` of each). */
export function outputsToWire(out: Record<string, ort.Tensor>): Record<string, WireTensor> {
  const outputs: Record<string, WireTensor> = {};
  for (const name in out) outputs[name] = toWire(out[name]!);
  return outputs;
}

/** A session on onnxruntime-node's public API, the Tensor class its feeds are made with, and its metadata. */
export interface PublicSession {
  session: ort.InferenceSession;
  Tensor: typeof ort.Tensor;
  info: SessionInfo;
}

/** A session from ModelProto bytes on the public API (onnxruntime-node is imported only then). */
export async function openPublicSession(
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
): Promise<PublicSession> {
  const { InferenceSession, Tensor } = await import('onnxruntime-node');
  const session = await InferenceSession.create(bytes, options);
  const info = { inputMetadata: [...session.inputMetadata], outputMetadata: [...session.outputMetadata] };
  return { session, Tensor, info };
}

/** Feeds as the public API's Tensors, float16 kept as bit patterns (`fp16Tensor`). */
export function publicFeeds(pub: PublicSession, feeds: Record<string, WireTensor>): Record<string, ort.Tensor> {
  const inputs: Record<string, ort.Tensor> = {};
  for (const name in feeds) {
    const t = feeds[name]!;
    inputs[name] = fp16Tensor(new pub.Tensor(t.type as 'float32', t.data as Float32Array, t.dims), t.data);
  }
  return inputs;
}
