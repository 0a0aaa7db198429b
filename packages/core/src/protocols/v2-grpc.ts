import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { DataPlane } from '../dataplane.js';
import { InvalidInput, redactPaths, toServekitError } from '../errors.js';
import { modelConfig } from '../extensions/model-config.js';
import { logModelInfer } from '../payload-log/grpc-hook.js';
import type { PayloadLogger } from '../payload-log/payload-logger.js';
import { endGrpcSpan, startGrpcSpan } from '../tracing/grpc-tracing.js';
import type { Tracer } from '../tracing/span.js';
import { grpcCallContext } from './grpc-call-context.js';
import { lazyInferenceServiceDefinition } from './grpc-proto.js';
import { GRPC_SERVER_TUNING } from './grpc-server-tuning.js';
import { MalformedMessage, servedServiceDefinition } from './grpc-service-definition.js';
import { decodeModelInferRequest, encodeModelInferResponse } from './model-infer-codec.js';
import { type RepositoryModelRequest, withDualLayoutRepositoryRequests } from './repository-request.js';

type Handler = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>) => Promise<unknown>;

/** Most characters of an error message sent as gRPC status details (trailers are bounded, 64 KiB in grpc-js). */
export const MAX_ERROR_DETAILS = 1024;

/** `message` clipped to {@link MAX_ERROR_DETAILS} characters, with an ellipsis when clipped. */
export function clipDetails(message: string): string {
  return message.length > MAX_ERROR_DETAILS ? `${message.slice(0, MAX_ERROR_DETAILS - 1)}…` : message;
}

/**
 * A unary handler whose errors become gRPC statuses: known errors keep their code and message, anything else is
 * logged to `logger` and answered INTERNAL with a generic message; every message has its absolute paths redacted.
 */
function unaryWith(
  logger: Logger,
  handler: Handler,
  tracer?: Tracer,
): grpc.handleUnaryCall<Record<string, unknown>, unknown> {
  return (call, callback) => {
    const span = tracer && startGrpcSpan(tracer, call);
    const run = async (): Promise<unknown> => {
      const req: unknown = call.request;
      if (req instanceof MalformedMessage)
        throw new InvalidInput(req.reason ?? `Malformed ${req.method} request message.`);
      return handler(call);
    };
    run().then(
      (res) => {
        if (span) endGrpcSpan(span, grpc.status.OK);
        callback(null, res);
      },
      (err: unknown) => {
        const e = toServekitError(err);
        if (e !== err) logger.error({ err, rpc: call.getPath() }, 'internal error in a gRPC call');
        const details = clipDetails(redactPaths(e.message));
        if (span) endGrpcSpan(span, e.grpcCode, details);
        callback({ code: e.grpcCode, details, name: e.name, message: details });
      },
    );
  };
}

/** The `inference.GRPCInferenceService` handlers, all backed by the dataplane. */
export function grpcHandlers(dataplane: DataPlane, tracer?: Tracer): grpc.UntypedServiceImplementation {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const unary = (handler: Handler) => unaryWith(dataplane.logger, handler, tracer);
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
    // Bytes in, bytes out (see servedServiceDefinition): servekit's own codec, budgeted and range-checked.
    ModelInfer: unary(async (call) => {
      const { modelName, modelVersion, request } = decodeModelInferRequest(
        call.request as unknown as Buffer,
        dataplane.limits,
      );
      const { ctx, settle } = grpcCallContext(call, request.id);
      try {
        return encodeModelInferResponse(await dataplane.inferV2(modelName, modelVersion, request, ctx));
      } finally {
        settle();
      }
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
        .map((r) => ({ name: r.name, version: r.version ?? '', state: r.state, reason: redactPaths(r.reason ?? '') }));
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
  /** Logs ModelInfer requests and responses (payload logging); omitted → nothing is captured. */
  payloadLog?: PayloadLogger;
  /** With tracing on, the tracer every call gets a server span from. */
  tracer?: Tracer;
  /** Wraps the service handlers before they are registered (e.g. authentication). */
  wrapHandlers?: (handlers: grpc.UntypedServiceImplementation) => grpc.UntypedServiceImplementation;
}

/** A grpc-js server with the inference service registered (not bound yet). */
export function createGrpcServer(dataplane: DataPlane, options: GrpcServerOptions): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageSize,
    'grpc.max_send_message_length': options.maxMessageSize,
    ...GRPC_SERVER_TUNING,
  });
  // Triton's and KServe's load/unload layouts, then every deserializer answering malformed bytes with INVALID_ARGUMENT.
  const definition = servedServiceDefinition(withDualLayoutRepositoryRequests(lazyInferenceServiceDefinition()));
  const handlers = grpcHandlers(dataplane, options.tracer);
  if (options.payloadLog)
    handlers.ModelInfer = logModelInfer(
      handlers.ModelInfer as grpc.handleUnaryCall<Record<string, unknown>, unknown>,
      options.payloadLog,
    );
  server.addService(definition, options.wrapHandlers ? options.wrapHandlers(handlers) : handlers);
  return server;
}

/** Bind a gRPC server to host:port (plain, or with the credentials given); resolves with the bound port. */
export function bindGrpc(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}
