import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * Path of the Open Inference Protocol proto shipped inside `@servekit/core` (`proto/grpc_predict_v2.proto`);
 * resolved from this module, so it works from `src/` (tests), `dist/` and an installed package alike.
 */
export const PROTO_PATH = fileURLToPath(new URL('../../proto/grpc_predict_v2.proto', import.meta.url));

/** proto-loader options: field names as in the proto, int64 as strings (exact), bytes as Buffers. */
export const PROTO_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};

let cached: grpc.ServiceClientConstructor | undefined;

/** The `inference.GRPCInferenceService` definition loaded from the proto (once per process). */
export function inferenceService(): grpc.ServiceClientConstructor {
  if (!cached) {
    const def = protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS);
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    cached = pkg.inference.GRPCInferenceService;
  }
  return cached;
}
