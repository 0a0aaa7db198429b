import { ModelProtoType } from './proto/onnx-schema.js';

interface ValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: unknown }; sequenceType?: unknown; mapType?: unknown };
}
interface AttributeProto {
  name: string;
  ints?: Array<string | number>;
  strings?: Uint8Array[];
}
interface NodeProto {
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  name?: string;
  attribute?: AttributeProto[];
}
interface ModelObject {
  graph: { node: NodeProto[]; input: ValueInfo[]; output: ValueInfo[] };
}

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

const utf8 = new TextDecoder();

function classLabelsOf(node: NodeProto): string[] {
  for (const a of node.attribute ?? []) {
    if (a.name === 'classlabels_int64s' && a.ints) return a.ints.map(String);
    if (a.name === 'classlabels_strings' && a.strings) return a.strings.map((b) => utf8.decode(b));
  }
  return [];
}

/**
 * Classifiers converted by skl2onnx/onnxmltools end in ZipMap (`seq(map(int64|string, float))`), which
 * onnxruntime-node cannot return. Remove each ZipMap whose output is a graph output and serve the tensor it
 * consumed (float [N, classes]) under the ZipMap output's name, so every output keeps the name the model file
 * declares (skl2onnx: `output_label`, `output_probability`). The ZipMap's class labels are returned.
 */
export function stripZipMap(bytes: Uint8Array): ZipMapRewrite {
  const model = ModelProtoType.toObject(ModelProtoType.decode(bytes), {
    longs: String,
    defaults: false,
    arrays: true,
  }) as unknown as ModelObject;
  const graph = model.graph;
  const nonTensorInputs = graph.input.filter((i) => i.type && !i.type.tensorType).map((i) => i.name);
  const outputs = new Set(graph.output.map((o) => o.name));
  const zipmaps = graph.node.filter((n) => n.opType === 'ZipMap' && outputs.has(n.output[0]!));
  if (zipmaps.length === 0) return { bytes, rewritten: false, nonTensorInputs, probabilities: [] };

  const probabilities: ZipMapProbabilities[] = [];
  for (const z of zipmaps) {
    const name = z.output[0]!;
    graph.node.splice(graph.node.indexOf(z), 1);
    graph.node.push({ opType: 'Identity', domain: '', input: [z.input[0]!], output: [name], name: `servekit_${name}` });
    const dims = [{ dimParam: 'N' }, { dimParam: 'C' }];
    const at = graph.output.findIndex((o) => o.name === name);
    graph.output[at] = { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims } } } };
    probabilities.push({ name, classLabels: classLabelsOf(z) });
  }
  const probNames = new Set(probabilities.map((p) => p.name));
  const labels = graph.output.filter(
    (o) => !probNames.has(o.name) && LABEL_TYPES.has(o.type?.tensorType?.elemType ?? 0),
  );
  const encoded = ModelProtoType.encode(
    ModelProtoType.fromObject(model as unknown as Record<string, unknown>),
  ).finish();
  const rewrite: ZipMapRewrite = { bytes: encoded, rewritten: true, nonTensorInputs, probabilities };
  if (labels.length === 1) rewrite.labelOutput = labels[0]!.name;
  return rewrite;
}
