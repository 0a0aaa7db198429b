import type * as grpc from '@grpc/grpc-js';
import type { RequestHeaders } from './cloud-event.js';
import type { PayloadLogger } from './payload-logger.js';

/**
 * Content type of logged gRPC bodies: the serialized `ModelInferRequest` / `ModelInferResponse` protobuf messages
 * exactly as received and sent (without gRPC's 5-byte frame), decodable with servekit's `grpc_predict_v2.proto`.
 */
export const GRPC_LOG_CONTENT_TYPE = 'application/grpc+proto';

/** The metadata of a call as headers: every value of each key (binary `-bin` values base64, as on the wire). */
function metadataHeaders(metadata: grpc.Metadata): RequestHeaders {
  const headers: Record<string, string[]> = {};
  for (const key of Object.keys(metadata.getMap())) {
    headers[key] = metadata.get(key).map((v) => (typeof v === 'string' ? v : v.toString('base64')));
  }
  return headers;
}

/**
 * Wrap the raw-bytes `ModelInfer` handler so its request bytes, and the bytes of a successful response, are logged.
 * A request that did not arrive as bytes (a malformed message) goes to the handler unlogged.
 */
export function logModelInfer(
  handler: grpc.handleUnaryCall<Record<string, unknown>, unknown>,
  log: PayloadLogger,
): grpc.handleUnaryCall<Record<string, unknown>, unknown> {
  return (call, callback) => {
    const bytes: unknown = call.request;
    if (!(bytes instanceof Uint8Array)) return handler(call, callback);
    const logged = log.request(metadataHeaders(call.metadata), GRPC_LOG_CONTENT_TYPE, bytes);
    handler(call, (err, value, trailer, flags) => {
      if (err === null && value instanceof Uint8Array) log.response(logged, GRPC_LOG_CONTENT_TYPE, value);
      callback(err, value, trailer, flags);
    });
  };
}
