import * as grpc from '@grpc/grpc-js';
import type { DataPlane } from '../dataplane.js';
import { toServekitError } from '../errors.js';
import { checkLoadParameters } from '../model/load-parameters.js';
import type { InferContext } from '../model/model.js';
import { makeContext } from './context.js';
import { inferenceService } from './grpc-proto.js';
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

/** A gRPC parameter map (`{key: {string_param: …}}`, Triton's ModelRepositoryParameter) as plain values. */
function grpcParameterValues(parameters: unknown): Record<string, unknown> | undefined {
  if (typeof parameters !== 'object' || parameters === null) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(parameters as Record<string, Record<string, unknown>>)) {
    const choice = typeof p?.parameter_choice === 'string' ? p.parameter_choice : Object.keys(p ?? {})[0];
    out[key] = choice === undefined ? undefined : p[choice];
  }
  return out;
}

/** The `inference.GRPCInferenceService` handlers, all backed by the dataplane. */
export function grpcHandlers(dataplane: DataPlane): grpc.UntypedServiceImplementation {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    ServerLive: unary(async () => ({ live: dataplane.live() })),
    ServerReady: unary(async () => ({ ready: dataplane.ready() })),
    ModelReady: unary(async (call) => ({
      ready: dataplane.modelReady(String(call.request.name), str(call.request.version)),
    })),
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
      const name = String(call.request.model_name);
      checkLoadParameters(name, grpcParameterValues(call.request.parameters));
      await dataplane.repository.load(name);
      return { model_name: name, isLoaded: true };
    }),
    RepositoryModelUnload: unary(async (call) => {
      const name = String(call.request.model_name);
      await dataplane.repository.unload(name);
      return { model_name: name, isUnloaded: true };
    }),
  };
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
  server.addService(inferenceService().service, grpcHandlers(dataplane));
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
