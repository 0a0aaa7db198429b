import {
  concatBytes,
  fieldsOf,
  int64sOf,
  lenField,
  MalformedProtobuf,
  stringOf,
  varintField,
  type WireField,
} from './proto/wire-fields.js';

// Field numbers of onnx/onnx.proto that the rewrite reads or writes.
const MODEL_GRAPH = 7;
const GRAPH = { node: 1, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const ATTRIBUTE = { name: 1, ints: 8, strings: 9 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE_TENSOR = 1;
const TENSOR = { elemType: 1, shape: 2 } as const;
const SHAPE_DIM = 1;
const DIM_PARAM = 2;

const FLOAT = 1;
/** INT64 and STRING: the element types of class labels. */
const LABEL_TYPES = new Set([7, 8]);

/** A probability tensor that replaced a ZipMap output, under the ZipMap output's own name. */
export interface ZipMapProbabilities {
  /** Output name (the one the model file declares). */
  name: string;
  /** Class labels by column (the ZipMap's `classlabels_int64s` or `classlabels_strings`). */
  classLabels: string[];
}

/** What `stripZipMap` changed. */
export interface ZipMapRewrite {
  /** The model bytes to load. */
  bytes: Uint8Array;
  /** True when at least one ZipMap node was removed. */
  rewritten: boolean;
  /** Graph inputs of non-tensor type (map/sequence), which onnxruntime-node cannot be fed. */
  nonTensorInputs: string[];
  /** The probability tensors now served in place of the ZipMap outputs. */
  probabilities: ZipMapProbabilities[];
  /** The classifier's label output (the one int64/string graph output), when there is exactly one. */
  labelOutput?: string;
}

/** A message's fields numbered `no`. */
function all(fields: WireField[], no: number): WireField[] {
  return fields.filter((f) => f.no === no);
}

/** The last field numbered `no` (a singular field written more than once: the last wins), if any. */
function last(fields: WireField[], no: number): WireField | undefined {
  return all(fields, no).at(-1);
}

/** A graph input or output: its name and, for a tensor, its element type. */
interface ValueInfo {
  name: string;
  field: WireField;
  tensor: boolean;
  elemType: number;
}

/** The ValueInfoProto in `field`. */
function valueInfoOf(buf: Uint8Array, field: WireField): ValueInfo {
  const fields = fieldsOf(buf, field.valueStart, field.end);
  const name = last(fields, VALUE_INFO.name);
  const type = last(fields, VALUE_INFO.type);
  const tensor = type && last(fieldsOf(buf, type.valueStart, type.end), TYPE_TENSOR);
  const elem = tensor && last(fieldsOf(buf, tensor.valueStart, tensor.end), TENSOR.elemType);
  return {
    name: name ? stringOf(buf, name) : '',
    field,
    // A value without a type is left alone, as onnxruntime sees it.
    tensor: !type || tensor !== undefined,
    elemType: elem ? readElemType(buf, elem) : 0,
  };
}

/** An enum (varint) field's value. */
function readElemType(buf: Uint8Array, f: WireField): number {
  return Number(int64sOf(buf, [f])[0] ?? 0);
}

/** A ZipMap node: where it lies, what it consumes and produces, and its class labels. */
interface ZipMapNode {
  field: WireField;
  input: string;
  output: string;
  classLabels: string[];
}

/** The ZipMap node in `field`, or undefined for any other node. */
function zipMapOf(buf: Uint8Array, field: WireField): ZipMapNode | undefined {
  const fields = fieldsOf(buf, field.valueStart, field.end);
  const op = last(fields, NODE.opType);
  if (!op || stringOf(buf, op) !== 'ZipMap') return undefined;
  const [input] = all(fields, NODE.input);
  const [output] = all(fields, NODE.output);
  if (!input || !output) return undefined;
  let classLabels: string[] = [];
  for (const a of all(fields, NODE.attribute)) {
    const attr = fieldsOf(buf, a.valueStart, a.end);
    const name = last(attr, ATTRIBUTE.name);
    const attrName = name ? stringOf(buf, name) : '';
    if (attrName === 'classlabels_int64s') classLabels = int64sOf(buf, all(attr, ATTRIBUTE.ints));
    else if (attrName === 'classlabels_strings')
      classLabels = all(attr, ATTRIBUTE.strings).map((f) => stringOf(buf, f));
    else continue;
    break;
  }
  return { field, input: stringOf(buf, input), output: stringOf(buf, output), classLabels };
}

/** `Identity(input) -> output`, named `servekit_<output>`, in place of a ZipMap. */
function identityNode(input: string, output: string): Uint8Array {
  return lenField(
    GRAPH.node,
    concatBytes([
      lenField(NODE.input, input),
      lenField(NODE.output, output),
      lenField(NODE.name, `servekit_${output}`),
      lenField(NODE.opType, 'Identity'),
    ]),
  );
}

/** Graph output `name`: a float tensor of shape [N, C]. */
function probabilityOutput(name: string): Uint8Array {
  const dim = (param: string) => lenField(SHAPE_DIM, lenField(DIM_PARAM, param));
  const shape = lenField(TENSOR.shape, concatBytes([dim('N'), dim('C')]));
  const tensor = lenField(TYPE_TENSOR, concatBytes([varintField(TENSOR.elemType, FLOAT), shape]));
  return lenField(GRAPH.output, concatBytes([lenField(VALUE_INFO.name, name), lenField(VALUE_INFO.type, tensor)]));
}

/**
 * Classifiers converted by skl2onnx/onnxmltools end in ZipMap (`seq(map(int64|string, float))`), which
 * onnxruntime-node cannot return. Remove each ZipMap whose output is a graph output and serve the tensor it
 * consumed (float [N, classes]) under the ZipMap output's name, so every output keeps the name the model file
 * declares (skl2onnx: `output_label`, `output_probability`). The ZipMap's class labels are returned.
 *
 * The rewrite works on the protobuf wire format: the ZipMap node becomes an Identity node in its place, its graph
 * output a float tensor, and every other byte of the file (initializers, the other nodes and their attributes,
 * fields servekit does not know) is copied as it is, without decoding it.
 */
export function stripZipMap(bytes: Uint8Array): ZipMapRewrite {
  try {
    return rewrite(bytes);
  } catch (err) {
    if (err instanceof MalformedProtobuf) throw new Error(`the ONNX file is not a valid ModelProto: ${err.message}`);
    throw err;
  }
}

/** `stripZipMap`, throwing MalformedProtobuf for bytes that are not a ModelProto. */
function rewrite(bytes: Uint8Array): ZipMapRewrite {
  const model = fieldsOf(bytes);
  const graphFields = all(model, MODEL_GRAPH);
  if (graphFields.length !== 1) {
    throw new MalformedProtobuf(graphFields.length === 0 ? 'it has no graph' : 'its graph is split across fields');
  }
  const graphField = graphFields[0]!;
  const graph = fieldsOf(bytes, graphField.valueStart, graphField.end);
  const nonTensorInputs = all(graph, GRAPH.input)
    .map((f) => valueInfoOf(bytes, f))
    .filter((v) => !v.tensor)
    .map((v) => v.name);
  const outputs = all(graph, GRAPH.output).map((f) => valueInfoOf(bytes, f));
  const outputNames = new Set(outputs.map((o) => o.name));
  const zipmaps = new Map<WireField, ZipMapNode>();
  for (const f of all(graph, GRAPH.node)) {
    const z = zipMapOf(bytes, f);
    if (z && outputNames.has(z.output)) zipmaps.set(f, z);
  }
  if (zipmaps.size === 0) return { bytes, rewritten: false, nonTensorInputs, probabilities: [] };

  const probabilities: ZipMapProbabilities[] = [...zipmaps.values()].map((z) => ({
    name: z.output,
    classLabels: z.classLabels,
  }));
  const probNames = new Set(probabilities.map((p) => p.name));
  const parts: Uint8Array[] = [];
  for (const f of graph) {
    const z = zipmaps.get(f);
    if (z) parts.push(identityNode(z.input, z.output));
    else if (f.no === GRAPH.output && probNames.has(valueInfoOf(bytes, f).name)) {
      parts.push(probabilityOutput(valueInfoOf(bytes, f).name));
    } else parts.push(bytes.subarray(f.start, f.end));
  }
  const newGraph = lenField(MODEL_GRAPH, concatBytes(parts));
  const encoded = concatBytes([bytes.subarray(0, graphField.start), newGraph, bytes.subarray(graphField.end)]);
  const labels = outputs.filter((o) => !probNames.has(o.name) && o.tensor && LABEL_TYPES.has(o.elemType));
  const result: ZipMapRewrite = { bytes: encoded, rewritten: true, nonTensorInputs, probabilities };
  if (labels.length === 1) result.labelOutput = labels[0]!.name;
  return result;
}
