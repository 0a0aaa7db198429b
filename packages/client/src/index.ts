// @servekit/client: KServe V1 / Open Inference Protocol (V2) clients with typed-array tensors.
//   RestClient  — REST V1 + V2, JSON or binary tensor extension, keep-alive, timeouts, retries.
//   GrpcClient  — V2 gRPC from protos/grpc_predict_v2.proto, raw or typed contents, deadlines, metadata.
//   forwardHeaders — the x-request-id / authorization / trace headers a transformer passes on.
//   RemotePredictor, predictorFromFlags — a Transformer's predictor on another server, from KServe's flags.

/**** Clients ****/

export { ClientError, type ClientErrorDetails } from './errors.js';
export {
  type GrpcCallOptions,
  GrpcClient,
  type GrpcClientOptions,
  type GrpcInferOptions,
} from './grpc-client.js';
export { type CallOptions, type InferOptions, RestClient, type RestClientOptions } from './rest-client.js';
export type { RetryOptions } from './retry.js';

/**** A transformer's predictor on another server ****/

export { FORWARDED_HEADERS, forwardHeaders } from './headers.js';
export {
  checkPredictorFlags,
  PREDICTOR_FLAGS,
  PREDICTOR_PROTOCOLS,
  type PredictorFlags,
} from './predictor-flag-specs.js';
export {
  type LocalModelLoader,
  type PredictorFlagsOptions,
  predictorFromFlags,
  predictorTlsFromFlags,
  type TransformerFlagOptions,
  transformerOptionsFromFlags,
} from './predictor-flags.js';
export { type PredictorTlsOptions, RemotePredictor, type RemotePredictorOptions } from './remote-predictor.js';
