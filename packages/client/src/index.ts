// @servekit/client: KServe V1 / Open Inference Protocol (V2) clients with typed-array tensors.
//   RestClient  — REST V1 + V2, JSON or binary tensor extension, keep-alive, timeouts, retries.
//   GrpcClient  — V2 gRPC from protos/grpc_predict_v2.proto, raw or typed contents, deadlines, metadata.
//   forwardHeaders — the x-request-id / authorization / trace headers a transformer passes on.
//   RemotePredictor, predictorFromFlags — a Transformer's predictor on another server, from KServe's flags.
export * from './errors.js';
export * from './grpc-client.js';
export * from './grpc-codec.js';
export * from './headers.js';
export * from './http-transport.js';
export * from './predictor-flags.js';
export * from './remote-predictor.js';
export * from './rest-client.js';
export * from './rest-codec.js';
export * from './retry.js';
