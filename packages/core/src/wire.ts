// @servekit/core/wire: the wire codecs @servekit/client (and adapters speaking other wire formats) share with the
// server — datatypes, the JSON and binary tensor codecs, the V2 gRPC codec and the protocol's response types.

/**** Datatypes ****/

export { allocate, type FixedDatatype, isBigIntDatatype, isDatatype, viewBytes } from './tensor/datatypes.js';

/**** JSON tensor codec ****/

export { decodeJsonData, encodeJsonData, nest } from './tensor/json-codec.js';
export { shapeOf } from './tensor/json-tensor.js';

/**** Binary tensor codec (binary data extension, raw_input_contents) ****/

export { decodeRawData, encodeRawData } from './tensor/binary-codec.js';

/**** V2 gRPC ****/

export { inferenceService } from './protocols/grpc-proto.js';
export {
  decodeGrpcRequest,
  encodeGrpcResponse,
  fromGrpcParameters,
  type GrpcContents,
  type GrpcInferRequest,
  type GrpcInferResponse,
  type GrpcParameter,
  type GrpcTensor,
  toGrpcParameters,
} from './protocols/v2-grpc-codec.js';

/**** Protocol responses ****/

export type { ServerMetadata } from './dataplane.js';
export type { RepositoryIndexEntry } from './model/repository.js';

/**** Worker threads of the adapter packages ****/

export {
  DEFAULT_LOAD_MAX_MEMORY_MB,
  DEFAULT_LOAD_TIMEOUT_MS,
  type IsolatedLoadBudget,
  ModelLoadAbortedError,
  runIsolatedLoad,
} from './isolated-load.js';
export { markOwnedBuffer, takeOwnedBuffer } from './tensor/owned-buffers.js';
export { builtWorkerUrl } from './worker-url.js';

/**** Rows of a batch (split and merged along dim 0) ****/

export { concatTensors, sliceTensor } from './batching/merge-split.js';
