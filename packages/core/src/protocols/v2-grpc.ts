import * as grpc from '@grpc/grpc-js';
import type { DataPlane } from '../dataplane.js';
import { InvalidInput, toServekitError } from '../errors.js';
import { modelConfig } from '../extensions/model-config.js';
import type { InferContext } from '../model/model.js';
import { makeContext } from './context.js';
import { inferenceService } from './grpc-proto.js';
import { type RepositoryModelRequest, withDualLayoutRepositoryRequests } from './repository-request.js';
import { decodeGrpcRequest, encodeGrpcResponse, type GrpcInferRequest } from './v2-grpc-codec.js';

type Handler = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>) => Promise<unknown>;

function grpcContext(call: grpc.ServerUnaryCall<unknown, unknown>, bodyId?: string): InferContext {
  const headers: InferContext['headers'] = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = typeof v === 'string' ? v : v.toString();
  const ac = new AbortController();
  call.once('cancelled', () => ac.abort());
  return makeContext(headers, 'grpc-v2', ac.signal, bodyId);
}

function unary(handler: Handler): grpc.handleUnaryCall<Record<string, unknown>, unknown> {
  return (call, callback) => {
    handler(call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const e = toServekitError(err);
        callback({ code: e.grpcCode, details: e.message, name: e.name, message: e.message });
      },
    );
  };
}

/** The `inference.GRPCInferenceService` handlers, all backed by the dataplane. */
export function grpcHandlers(dataplane: DataPlane): grpc.UntypedServiceImplementation {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    ServerLive: unary(async () => ({ live: dataplane.live() })),
    ServerReady: unary(async () => ({ ready: dataplane.ready() })),
    ModelReady: unary(async (call) => {
      const name = String(call.request.name ?? '');
      const version = str(call.request.version);
      // An unknown version of a known model is not ready (Triton's answer), not an error.
      if (version !== undefined && dataplane.repository.names().includes(name)) {
        return { ready: dataplane.repository.isReady(name, version) };
      }
      return { ready: dataplane.modelReady(name, version) };
    }),
    ServerMetadata: unary(async () => dataplane.serverMetadata()),
    ModelMetadata: unary(async (call) => {
      const md = dataplane.modelMetadata(String(call.request.name), str(call.request.version));
      return { ...md, versions: md.versions ?? [] };
    }),
    ModelInfer: unary(async (call) => {
      const msg = call.request as unknown as GrpcInferRequest;
      const { request, usedRaw } = decodeGrpcRequest(msg);
      const ctx = grpcContext(call, request.id);
      const res = await dataplane.inferV2(msg.model_name, str(msg.model_version), request, ctx);
      return encodeGrpcResponse(res, usedRaw);
    }),
    RepositoryModelLoad: unary(async (call) => {
      const name = repositoryModelName(call.request as unknown as RepositoryModelRequest, 'load');
      await dataplane.repository.load(name);
      return { model_name: name, isLoaded: true };
    }),
    RepositoryModelUnload: unary(async (call) => {
      const name = repositoryModelName(call.request as unknown as RepositoryModelRequest, 'unload');
      await dataplane.repository.unload(name);
      return { model_name: name, isUnloaded: true };
    }),
    RepositoryIndex: unary(async (call) => {
      const readyOnly = call.request.ready === true;
      const models = dataplane.repository
        .index()
        .filter((r) => !readyOnly || r.state === 'READY')
        .map((r) => ({ name: r.name, version: r.version ?? '', state: r.state, reason: r.reason ?? '' }));
      return { models };
    }),
    ModelConfig: unary(async (call) => ({
      config: modelConfig(dataplane, String(call.request.name ?? ''), str(call.request.version)),
    })),
    ModelStatistics: unary(async (call) => ({
      model_stats: dataplane.statistics.report(dataplane.repository, str(call.request.name), str(call.request.version)),
    })),
  };
}

/** The model a load/unload request names; a malformed request, no name, or load parameters are INVALID_ARGUMENT. */
function repositoryModelName(req: RepositoryModelRequest, what: 'load' | 'unload'): string {
  if (req.error) throw new InvalidInput(req.error);
  if (req.model_name === '') throw new InvalidInput(`Repository ${what} request needs a model name.`);
  const keys = [...req.parameters.keys()];
  if (keys.length > 0) {
    throw new InvalidInput(
      `Repository ${what} of ${req.model_name}: parameters are not supported by servekit (got ${keys.join(', ')}); ` +
        'it loads the model from its model directory.',
    );
  }
  return req.model_name;
}

/** Options of the gRPC server. */
export interface GrpcServerOptions {
  /** Largest message accepted and sent, in bytes. */
  maxMessageSize: number;
}

/** A grpc-js server with the inference service registered (not bound yet). */
export function createGrpcServer(dataplane: DataPlane, options: GrpcServerOptions): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageSize,
    'grpc.max_send_message_length': options.maxMessageSize,
  });
  server.addService(withDualLayoutRepositoryRequests(inferenceService().service), grpcHandlers(dataplane));
  return server;
}

/** Bind a gRPC server to host:port; resolves with the bound port. */
export function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
}
