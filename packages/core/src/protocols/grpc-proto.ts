import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { lazyServiceDefinition } from './grpc-lazy-service.js';

// proto-loader (and protobufjs under it) is CommonJS: required on first use, so importing this module costs nothing.
const requireCjs = createRequire(import.meta.url);

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
    const { loadSync } = requireCjs('@grpc/proto-loader') as typeof protoLoader;
    const def = loadSync(PROTO_PATH, PROTO_OPTIONS);
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    cached = pkg.inference.GRPCInferenceService;
  }
  return cached;
}

/**
 * The inference service definition as a server needs it, without loading proto-loader/protobufjs: they are loaded
 * on the first call whose messages go through them (any RPC but servekit's own-codec ModelInfer).
 */
export function lazyInferenceServiceDefinition(): grpc.ServiceDefinition {
  return lazyServiceDefinition(() => inferenceService().service);
}
