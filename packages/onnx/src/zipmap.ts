import { ModelProtoType } from './proto/onnx-schema.js';

interface ValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: unknown }; sequenceType?: unknown; mapType?: unknown };
}
interface NodeProto {
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  name?: string;
}
interface ModelObject {
  graph: { node: NodeProto[]; input: ValueInfo[]; output: ValueInfo[] };
}

const FLOAT = 1;
/** INT64 and STRING: the element types of class labels. */
const LABEL_TYPES = new Set([7, 8]);

/** What `stripZipMap` changed. */
export interface ZipMapRewrite {
  /** The model bytes to load. */
  bytes: Uint8Array;
  /** True when at least one ZipMap node was removed. */
  rewritten: boolean;
  /** Graph inputs of non-tensor type (map/sequence), which onnxruntime-node cannot be fed. */
  nonTensorInputs: string[];
}

/**
 * Classifiers converted by skl2onnx/onnxmltools end in ZipMap (`seq(map(int64|string, float))`), which
 * onnxruntime-node cannot return. Remove each ZipMap whose output is a graph output and expose the tensor
 * it consumed as output `probabilities` (float [N, classes]); the classifier's label output becomes `label`.
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
  if (zipmaps.length === 0) return { bytes, rewritten: false, nonTensorInputs };

  const taken = new Set([...graph.node.flatMap((n) => n.output), ...graph.input.map((i) => i.name)]);
  for (const z of zipmaps) taken.delete(z.output[0]!);
  const rename = (from: string, to: string): string => {
    if (from === to) return to;
    if (graph.input.some((i) => i.name === to) || graph.output.some((o) => o.name === to)) return from;
    if (taken.has(to)) {
      // An internal tensor already has the name (skl2onnx calls the classifier's own output `label`): rename it.
      const internal = `${to}__servekit`;
      for (const n of graph.node) {
        n.input = n.input.map((x) => (x === to ? internal : x));
        n.output = n.output.map((x) => (x === to ? internal : x));
      }
    }
    graph.node.push({ opType: 'Identity', domain: '', input: [from], output: [to], name: `servekit_${to}` });
    taken.add(to);
    return to;
  };
  for (const z of zipmaps) {
    graph.node.splice(graph.node.indexOf(z), 1);
    const zipOut = graph.output.findIndex((o) => o.name === z.output[0]);
    graph.output[zipOut] = { name: '' }; // frees the name (2018 converters call the ZipMap output `probabilities`)
    const probName = rename(z.input[0]!, 'probabilities');
    const dims = [{ dimParam: 'N' }, { dimParam: 'C' }];
    graph.output[zipOut] = { name: probName, type: { tensorType: { elemType: FLOAT, shape: { dim: dims } } } };
  }
  // The classifier's label: the one other graph output holding int64 or string labels.
  const labels = graph.output.filter(
    (o) => o.name !== 'probabilities' && LABEL_TYPES.has(o.type?.tensorType?.elemType ?? 0),
  );
  if (labels.length === 1 && labels[0]!.name !== 'label') {
    const label = labels[0]!;
    label.name = rename(label.name, 'label');
  }
  const encoded = ModelProtoType.encode(
    ModelProtoType.fromObject(model as unknown as Record<string, unknown>),
  ).finish();
  return { bytes: encoded, rewritten: true, nonTensorInputs };
}
