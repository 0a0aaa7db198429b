import protobuf from 'protobufjs';

/**
 * The subset of TensorFlow's protos that a SavedModel reader needs, with upstream field numbers
 * (tensorflow/core/framework/{types,tensor,tensor_shape,attr_value,node_def,op_def,function,graph,versions}.proto,
 * tensorflow/core/protobuf/{meta_graph,saved_model,saver,saved_object_graph,trackable_object_graph,tensor_bundle}.proto).
 * Fields servekit never reads are left out; protobufjs skips unknown fields when decoding.
 */
const PROTO = `
syntax = "proto3";
package tensorflow;

message TensorShapeProto {
  message Dim { int64 size = 1; string name = 2; }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated int32 half_val = 13 [packed = true];
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
  repeated float scomplex_val = 9 [packed = true];
  repeated int64 int64_val = 10 [packed = true];
  repeated bool bool_val = 11 [packed = true];
  repeated double dcomplex_val = 12 [packed = true];
  repeated uint32 uint32_val = 16 [packed = true];
  repeated uint64 uint64_val = 17 [packed = true];
}

message AttrValue {
  message ListValue {
    repeated bytes s = 2;
    repeated int64 i = 3 [packed = true];
    repeated float f = 4 [packed = true];
    repeated bool b = 5 [packed = true];
    repeated int32 type = 6 [packed = true];
    repeated TensorShapeProto shape = 7;
    repeated TensorProto tensor = 8;
    repeated NameAttrList func = 9;
  }
  oneof value {
    ListValue list = 1;
    bytes s = 2;
    int64 i = 3;
    float f = 4;
    bool b = 5;
    int32 type = 6;
    TensorShapeProto shape = 7;
    TensorProto tensor = 8;
    string placeholder = 9;
    NameAttrList func = 10;
  }
}

message NameAttrList {
  string name = 1;
  map<string, AttrValue> attr = 2;
}

message NodeDef {
  string name = 1;
  string op = 2;
  repeated string input = 3;
  string device = 4;
  map<string, AttrValue> attr = 5;
}

message OpDef {
  message ArgDef {
    string name = 1;
    string description = 2;
    int32 type = 3;
    string type_attr = 4;
    string number_attr = 5;
    string type_list_attr = 6;
    bool is_ref = 16;
  }
  message AttrDef {
    string name = 1;
    string type = 2;
    AttrValue default_value = 3;
  }
  string name = 1;
  repeated ArgDef input_arg = 2;
  repeated ArgDef output_arg = 3;
  repeated string control_output = 20;
  repeated AttrDef attr = 4;
  bool is_stateful = 17;
}

message OpList { repeated OpDef op = 1; }

message FunctionDef {
  OpDef signature = 1;
  map<string, AttrValue> attr = 5;
  repeated NodeDef node_def = 3;
  map<string, string> ret = 4;
  map<string, string> control_ret = 6;
}

message FunctionDefLibrary { repeated FunctionDef function = 1; }

message VersionDef {
  int32 producer = 1;
  int32 min_consumer = 2;
  repeated int32 bad_consumers = 3;
}

message GraphDef {
  repeated NodeDef node = 1;
  VersionDef versions = 4;
  FunctionDefLibrary library = 2;
}

message SaverDef {
  string filename_tensor_name = 1;
  string save_tensor_name = 2;
  string restore_op_name = 3;
  int32 version = 7;
}

message TensorInfo {
  string name = 1;
  int32 dtype = 2;
  TensorShapeProto tensor_shape = 3;
}

message SignatureDef {
  map<string, TensorInfo> inputs = 1;
  map<string, TensorInfo> outputs = 2;
  string method_name = 3;
}

message TrackableObjectGraph {
  message TrackableObject {
    message ObjectReference { int32 node_id = 1; string local_name = 2; }
    message SerializedTensor { string name = 1; string full_name = 2; string checkpoint_key = 3; }
    repeated ObjectReference children = 1;
    repeated SerializedTensor attributes = 2;
  }
  repeated TrackableObject nodes = 1;
}

message SavedVariable {
  int32 dtype = 1;
  TensorShapeProto shape = 2;
  bool trainable = 3;
  string name = 6;
}

message SavedObject {
  repeated TrackableObjectGraph.TrackableObject.ObjectReference children = 1;
  SavedVariable variable = 7;
}

message SavedConcreteFunction { repeated int32 bound_inputs = 2; }

message SavedObjectGraph {
  repeated SavedObject nodes = 1;
  map<string, SavedConcreteFunction> concrete_functions = 2;
}

message MetaGraphDef {
  message MetaInfoDef {
    string meta_graph_version = 1;
    OpList stripped_op_list = 2;
    repeated string tags = 4;
    string tensorflow_version = 5;
    string tensorflow_git_version = 6;
    bool stripped_default_attrs = 7;
  }
  MetaInfoDef meta_info_def = 1;
  GraphDef graph_def = 2;
  SaverDef saver_def = 3;
  map<string, SignatureDef> signature_def = 5;
  SavedObjectGraph object_graph_def = 7;
}

message SavedModel {
  int64 saved_model_schema_version = 1;
  repeated MetaGraphDef meta_graphs = 2;
}

message BundleHeaderProto {
  int32 num_shards = 1;
  int32 endianness = 2;
  VersionDef version = 3;
}

message BundleEntryProto {
  int32 dtype = 1;
  TensorShapeProto shape = 2;
  int32 shard_id = 3;
  int64 offset = 4;
  int64 size = 5;
  fixed32 crc32c = 6;
  repeated bytes slices = 7;
}
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;

const CONVERT: protobuf.IConversionOptions = { longs: String, bytes: Uint8Array, defaults: false, arrays: true };

/** TensorShapeProto as decoded (int64 sizes as decimal strings). */
export interface ShapeProto {
  dim?: Array<{ size?: string; name?: string }>;
  unknown_rank?: boolean;
}

/** TensorProto as decoded. */
export interface TensorProtoMsg {
  dtype?: number;
  tensor_shape?: ShapeProto;
  tensor_content?: Uint8Array;
  half_val?: number[];
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  string_val?: Uint8Array[];
  int64_val?: string[];
  bool_val?: boolean[];
  uint32_val?: number[];
  uint64_val?: string[];
  scomplex_val?: number[];
  dcomplex_val?: number[];
}

/** NameAttrList as decoded (a function reference with attrs). */
export interface NameAttrListMsg {
  name?: string;
  attr?: Record<string, AttrValueMsg>;
}

/** AttrValue as decoded; exactly one field is set. */
export interface AttrValueMsg {
  list?: {
    s?: Uint8Array[];
    i?: string[];
    f?: number[];
    b?: boolean[];
    type?: number[];
    shape?: ShapeProto[];
    tensor?: TensorProtoMsg[];
    func?: NameAttrListMsg[];
  };
  s?: Uint8Array;
  i?: string;
  f?: number;
  b?: boolean;
  type?: number;
  shape?: ShapeProto;
  tensor?: TensorProtoMsg;
  placeholder?: string;
  func?: NameAttrListMsg;
}

/** NodeDef as decoded. */
export interface NodeDefMsg {
  name: string;
  op: string;
  input?: string[];
  device?: string;
  attr?: Record<string, AttrValueMsg>;
}

/** OpDef.ArgDef as decoded. */
export interface ArgDefMsg {
  name: string;
  type?: number;
  type_attr?: string;
  number_attr?: string;
  type_list_attr?: string;
  is_ref?: boolean;
}

/** OpDef as decoded (from a stripped op list or a function signature). */
export interface OpDefMsg {
  name: string;
  input_arg?: ArgDefMsg[];
  output_arg?: ArgDefMsg[];
  attr?: Array<{ name: string; type?: string; default_value?: AttrValueMsg }>;
  is_stateful?: boolean;
}

/** FunctionDef as decoded. */
export interface FunctionDefMsg {
  signature: OpDefMsg;
  attr?: Record<string, AttrValueMsg>;
  node_def?: NodeDefMsg[];
  ret?: Record<string, string>;
  control_ret?: Record<string, string>;
}

/** GraphDef as decoded. */
export interface GraphDefMsg {
  node?: NodeDefMsg[];
  versions?: { producer?: number; min_consumer?: number };
  library?: { function?: FunctionDefMsg[] };
}

/** TensorInfo as decoded (dense tensors only: `name` is the graph tensor, e.g. `x:0`). */
export interface TensorInfoMsg {
  name?: string;
  dtype?: number;
  tensor_shape?: ShapeProto;
}

/** SignatureDef as decoded. */
export interface SignatureDefMsg {
  inputs?: Record<string, TensorInfoMsg>;
  outputs?: Record<string, TensorInfoMsg>;
  method_name?: string;
}

/** A child edge in an object graph. */
export interface ObjectReferenceMsg {
  node_id?: number;
  local_name?: string;
}

/** SavedObjectGraph as decoded (the TF2 object graph stored in the MetaGraphDef). */
export interface SavedObjectGraphMsg {
  nodes?: Array<{
    children?: ObjectReferenceMsg[];
    variable?: { dtype?: number; shape?: ShapeProto; name?: string };
  }>;
  concrete_functions?: Record<string, { bound_inputs?: number[] }>;
}

/** TrackableObjectGraph as decoded (the object graph stored in a checkpoint). */
export interface TrackableObjectGraphMsg {
  nodes?: Array<{
    children?: ObjectReferenceMsg[];
    attributes?: Array<{ name?: string; full_name?: string; checkpoint_key?: string }>;
  }>;
}

/** MetaGraphDef as decoded. */
export interface MetaGraphDefMsg {
  meta_info_def?: {
    meta_graph_version?: string;
    stripped_op_list?: { op?: OpDefMsg[] };
    tags?: string[];
    tensorflow_version?: string;
    tensorflow_git_version?: string;
    stripped_default_attrs?: boolean;
  };
  graph_def?: GraphDefMsg;
  saver_def?: { filename_tensor_name?: string; restore_op_name?: string; version?: number };
  signature_def?: Record<string, SignatureDefMsg>;
  object_graph_def?: SavedObjectGraphMsg;
}

/** SavedModel as decoded. */
export interface SavedModelMsg {
  saved_model_schema_version?: string;
  meta_graphs?: MetaGraphDefMsg[];
}

/** BundleHeaderProto as decoded (the checkpoint index entry under the empty key). */
export interface BundleHeaderMsg {
  num_shards?: number;
  endianness?: number;
  version?: { producer?: number; min_consumer?: number };
}

/** BundleEntryProto as decoded (where one checkpointed tensor lives). */
export interface BundleEntryMsg {
  dtype?: number;
  shape?: ShapeProto;
  shard_id?: number;
  offset?: string;
  size?: string;
  crc32c?: number;
  slices?: Uint8Array[];
}

function decoder<T>(typeName: string): (bytes: Uint8Array) => T {
  const type = root.lookupType(`tensorflow.${typeName}`);
  return (bytes) => type.toObject(type.decode(bytes), CONVERT) as T;
}

/** Decode `saved_model.pb` bytes. Throws protobufjs errors on malformed input. */
export const decodeSavedModel = decoder<SavedModelMsg>('SavedModel');
/** Decode a serialized TrackableObjectGraph (checkpoint key `_CHECKPOINTABLE_OBJECT_GRAPH`). */
export const decodeTrackableObjectGraph = decoder<TrackableObjectGraphMsg>('TrackableObjectGraph');
/** Decode a checkpoint index header. */
export const decodeBundleHeader = decoder<BundleHeaderMsg>('BundleHeaderProto');
/** Decode a checkpoint index entry. */
export const decodeBundleEntry = decoder<BundleEntryMsg>('BundleEntryProto');

/** Encode a GraphDef message (decoded shape) back to bytes; used by tests to build models. */
export function encodeMessage(typeName: string, value: object): Uint8Array {
  const type = root.lookupType(`tensorflow.${typeName}`);
  return type.encode(type.fromObject(value)).finish();
}
