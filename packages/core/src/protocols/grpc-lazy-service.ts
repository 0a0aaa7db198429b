import type * as grpc from '@grpc/grpc-js';

/** Full name of the Open Inference Protocol gRPC service. */
const INFERENCE_SERVICE_NAME = 'inference.GRPCInferenceService';

/**
 * The methods of `inference.GRPCInferenceService` in the proto's order, each unary, with the name grpc-js also
 * looks handlers up by (`originalName`, proto-loader's lower camel case). A test checks it against the proto.
 */
export const INFERENCE_METHODS: ReadonlyArray<readonly [name: string, originalName: string]> = [
  ['ServerLive', 'serverLive'],
  ['ServerReady', 'serverReady'],
  ['ModelReady', 'modelReady'],
  ['ServerMetadata', 'serverMetadata'],
  ['ModelMetadata', 'modelMetadata'],
  ['ModelInfer', 'modelInfer'],
  ['ModelConfig', 'modelConfig'],
  ['ModelStatistics', 'modelStatistics'],
  ['RepositoryIndex', 'repositoryIndex'],
  ['RepositoryModelLoad', 'repositoryModelLoad'],
  ['RepositoryModelUnload', 'repositoryModelUnload'],
];

type Method = grpc.MethodDefinition<unknown, unknown>;

/**
 * The inference service definition without parsing the proto: paths and stream flags are fixed, and each
 * serializer/deserializer asks `load` for the proto-built definition the first time one of them runs (the first
 * call of that kind of RPC), so a server whose clients only send ModelInfer (servekit's own codec) never loads
 * protobufjs, and the parse is off the start-up path.
 */
export function lazyServiceDefinition(load: () => grpc.ServiceDefinition): grpc.ServiceDefinition {
  let built: grpc.ServiceDefinition | undefined;
  const real = (name: string): Method => {
    built ??= load();
    const method = built[name];
    if (!method) throw new Error(`${INFERENCE_SERVICE_NAME} has no method ${name}`);
    return method as Method;
  };
  const definition: Record<string, Method> = {};
  for (const [name, originalName] of INFERENCE_METHODS) {
    definition[name] = {
      path: `/${INFERENCE_SERVICE_NAME}/${name}`,
      requestStream: false,
      responseStream: false,
      originalName,
      requestSerialize: (value: unknown): Buffer => real(name).requestSerialize(value),
      requestDeserialize: (bytes: Buffer): unknown => real(name).requestDeserialize(bytes),
      responseSerialize: (value: unknown): Buffer => real(name).responseSerialize(value),
      responseDeserialize: (bytes: Buffer): unknown => real(name).responseDeserialize(bytes),
    };
  }
  return definition;
}
