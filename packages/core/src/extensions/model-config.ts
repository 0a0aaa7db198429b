/**
 * Triton's model configuration extension (`GET /v2/models/{name}/config`, gRPC `ModelConfig`): the
 * configuration servekit actually runs a model with, in Triton's `ModelConfig` shape, built from the model's
 * V2 metadata and its dynamic batching options. `max_batch_size` is 0 when the model runs unbatched (then
 * `dims` are the full shapes), else the batcher's limit (then `dims` leave out the batch dim).
 */
import type { DataPlane } from '../dataplane.js';
import type { TensorMetadata } from '../model/model.js';
import type { Datatype } from '../tensor/datatypes.js';

/** Triton's `DataType` enum names by V2 datatype. */
const TRITON_TYPES: Record<Datatype, string> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
  BF16: 'TYPE_BF16',
};

/** Triton's backend name for a servekit platform (the platform itself when Triton has no such backend). */
const BACKENDS: Record<string, string> = {
  onnxruntime_onnx: 'onnxruntime',
  tensorflow_savedmodel: 'tensorflow',
};

/** Triton's `ModelInput` / `ModelOutput` (the fields servekit fills). */
export interface ModelConfigTensor {
  /** Tensor name. */
  name: string;
  /** Triton datatype, e.g. `TYPE_FP32`. */
  data_type: string;
  /** Dims (without the batch dim when max_batch_size > 0); -1 is variable. */
  dims: number[];
}

/** Triton's `ModelDynamicBatching` as servekit's batcher runs it. */
export interface DynamicBatchingConfig {
  /** Preferred batch sizes. */
  preferred_batch_size: number[];
  /** `--max_latency_ms` in microseconds. */
  max_queue_delay_microseconds: number;
  /** Responses keep request order (always true: every caller gets its own rows). */
  preserve_ordering: boolean;
  /** Queue limits: reject beyond `max_queue_size` rows or after `default_timeout_microseconds`. */
  default_queue_policy: {
    timeout_action: 'REJECT';
    default_timeout_microseconds: number;
    allow_timeout_override: boolean;
    max_queue_size: number;
  };
}

/** Triton's `ModelConfig` (REST JSON and gRPC message alike). */
export interface TritonModelConfig {
  /** Model name. */
  name: string;
  /** Platform, e.g. `onnxruntime_onnx`. */
  platform: string;
  /** Backend, e.g. `onnxruntime`. */
  backend: string;
  /** 0: unbatched; else the most rows of one batch. */
  max_batch_size: number;
  /** Inputs. */
  input: ModelConfigTensor[];
  /** Outputs. */
  output: ModelConfigTensor[];
  /** Present when the dynamic batcher runs the model. */
  dynamic_batching?: DynamicBatchingConfig;
  /** Model parameters from its metadata, as strings. */
  parameters: Record<string, { string_value: string }>;
}

function tensors(list: TensorMetadata[], batched: boolean): ModelConfigTensor[] {
  return list.map((t) => ({
    name: t.name,
    data_type: TRITON_TYPES[t.datatype] ?? 'TYPE_INVALID',
    dims: batched ? t.shape.slice(1) : [...t.shape],
  }));
}

/** The configuration model `name` (version) runs with. Throws ModelNotFound / ModelNotReady. */
export function modelConfig(dataplane: DataPlane, name: string, version?: string): TritonModelConfig {
  const md = dataplane.modelMetadata(name, version);
  const batching = dataplane.batchingOptions(name);
  const config: TritonModelConfig = {
    name,
    platform: md.platform,
    backend: BACKENDS[md.platform] ?? md.platform,
    max_batch_size: batching ? batching.maxBatchSize : 0,
    input: tensors(md.inputs, batching !== undefined),
    output: tensors(md.outputs, batching !== undefined),
    parameters: {},
  };
  const extra = (md as { parameters?: Record<string, unknown> }).parameters;
  if (extra) {
    for (const [k, v] of Object.entries(extra)) {
      if (v !== undefined && v !== null) config.parameters[k] = { string_value: String(v) };
    }
  }
  if (batching) {
    const timeout = batching.timeoutMs ?? 30_000;
    config.dynamic_batching = {
      preferred_batch_size: [...(batching.preferredBatchSizes ?? [])],
      max_queue_delay_microseconds: Math.round(batching.maxLatencyMs * 1000),
      preserve_ordering: true,
      default_queue_policy: {
        timeout_action: 'REJECT',
        default_timeout_microseconds: Math.round(timeout * 1000),
        allow_timeout_override: false,
        max_queue_size: batching.maxQueueSize ?? 1024,
      },
    };
  }
  return config;
}
