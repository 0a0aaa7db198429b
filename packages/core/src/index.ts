// @servekit/core: what a model author, a transformer author and an embedder import.
// The wire codecs that @servekit/client shares with the server are the second entry point, @servekit/core/wire.

/**** Model / Transformer / Predictor ****/

export type { ClassLabelProvider } from './extensions/classification.js';
export { FORWARDED_HEADERS, forwardHeaders } from './model/forward-headers.js';
export { type InferContext, Model, type ModelMetadata, type Protocol, type TensorMetadata } from './model/model.js';
export type { ModelFactory } from './model/repository.js';
export {
  LocalPredictor,
  type Predictor,
  type PredictorProtocol,
  predictorFailure,
  Transformer,
  type TransformerOptions,
} from './model/transformer.js';

/**** ModelServer and flags ****/

export type { AdmissionOptions } from './admission/admission-controller.js';
export { REQUEST_TIMEOUT_HEADER, RequestTimeoutExpired } from './admission/deadline.js';
export type { AuthOptions } from './auth/server-auth.js';
export type { BatchingOptions } from './batching/batcher.js';
export { LOG_MODES, type LogMode, type PayloadLogOptions } from './payload-log/options.js';
export {
  boolWord,
  envName,
  type FlagSpec,
  type FlagType,
  type FlagValueOf,
  isTruthy,
  LOG_LEVELS,
  type ParsedFlags,
  type ParsedFlagsOf,
  parseFlags,
  SERVER_FLAGS,
  type ServerFlags,
  usage,
} from './server/flags.js';
export { ModelServer, type ModelServerOptions, type ServerAddresses } from './server/model-server.js';
export { serverOptionsFromFlags } from './server/options-from-flags.js';
export { TlsConfigError, type TlsOptions } from './server/tls.js';

/**** Errors and limits ****/

export {
  DeadlineExceeded,
  GrpcCode,
  InferenceError,
  InvalidInput,
  ModelLoadError,
  ModelNotFound,
  ModelNotReady,
  NotImplemented,
  Overloaded,
  PredictorError,
  RequestCancelled,
  ServekitError,
  ServerNotReady,
} from './errors.js';
export { checkDecodedBytes, DEFAULT_REQUEST_LIMITS, type RequestLimits, RequestTooLarge } from './limits.js';

/**** Tensors: request and response types, helpers a model author needs ****/

export {
  elementCount,
  type InferRequest,
  type InferResponse,
  type InferTensor,
  isInferRequest,
  isInferResponse,
  type Parameters,
  type Payload,
  type RequestedOutput,
  type Result,
  type V1Request,
  type V1Response,
} from './protocols/infer-types.js';
export type { Datatype, TensorData } from './tensor/datatypes.js';
export { fromBFloat16Bits, fromFloat16Bits, toBFloat16Bits, toFloat16Bits } from './tensor/half-float.js';
export { tensorFromJson, tensorToJson } from './tensor/json-tensor.js';

/**** REST plugin for embedding in a fastify app ****/

export { DataPlane, type DataPlaneOptions } from './dataplane.js';
export { createServerMetrics, type ServerMetrics } from './metrics.js';
export { ModelRepository } from './model/repository.js';
export { type RestPluginOptions, servekitRestPlugin } from './protocols/rest-plugin.js';
// OpenTelemetry tracing (the SDK itself is loaded only by startTracing, when tracing is on).
export type {
  ChildSpanOptions,
  SpanAttributes,
  SpanAttributeValue,
  Tracer,
  TraceSpan,
  TraceSpanKind,
  TracingLog,
  TracingOptions,
} from './tracing/span.js';
export { startTracing, tracingEnabled } from './tracing/start-tracing.js';
