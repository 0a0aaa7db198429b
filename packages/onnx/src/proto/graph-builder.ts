import { ModelProtoType, OnnxAttributeType, OnnxDataType } from './onnx-schema.js';

/** An ONNX element type name (keys of TensorProto.DataType). */
export type OnnxElemType = keyof typeof OnnxDataType;

/** A dim of a graph input/output: a fixed size, or a symbolic name (e.g. `'N'`) for a dynamic one. */
export type Dim = number | string;

/** An attribute value, tagged with its ONNX attribute type. */
export type Attr =
  | { kind: 'f'; value: number }
  | { kind: 'i'; value: number | bigint }
  | { kind: 's'; value: string | Uint8Array }
  | { kind: 'floats'; value: ArrayLike<number> }
  | { kind: 'ints'; value: ArrayLike<number | bigint> }
  | { kind: 'strings'; value: ArrayLike<string | Uint8Array> }
  | { kind: 't'; value: OnnxTensor }
  | { kind: 'g'; value: GraphBuilder };

/** Constructors for tagged attribute values. */
export const attr = {
  /** A FLOAT attribute. */
  f: (value: number): Attr => ({ kind: 'f', value }),
  /** An INT attribute. */
  i: (value: number | bigint): Attr => ({ kind: 'i', value }),
  /** A STRING attribute. */
  s: (value: string | Uint8Array): Attr => ({ kind: 's', value }),
  /** A FLOATS attribute. */
  floats: (value: ArrayLike<number>): Attr => ({ kind: 'floats', value }),
  /** An INTS attribute. */
  ints: (value: ArrayLike<number | bigint>): Attr => ({ kind: 'ints', value }),
  /** A STRINGS attribute. */
  strings: (value: ArrayLike<string | Uint8Array>): Attr => ({ kind: 'strings', value }),
  /** A TENSOR attribute. */
  t: (value: OnnxTensor): Attr => ({ kind: 't', value }),
  /** A GRAPH attribute: a subgraph (the `body` of Loop, the branches of If), made with `GraphBuilder.subgraph`. */
  g: (value: GraphBuilder): Attr => ({ kind: 'g', value }),
};

/** A constant tensor (initializer or TENSOR attribute). */
export interface OnnxTensor {
  /** Element type. */
  type: OnnxElemType;
  /** Dims. */
  dims: number[];
  /** Values, row-major: numbers/bigints for numeric types, strings for STRING. */
  values: ArrayLike<number | bigint | string>;
}

/** A constant given as raw little-endian element bytes (any fixed-size type: INT8, UINT16, FLOAT16, BOOL…). */
export interface OnnxRawTensor {
  /** Element type. */
  type: OnnxElemType;
  /** Dims. */
  dims: number[];
  /** Row-major element bytes, little-endian; used as they are (no copy). */
  raw: Uint8Array;
}

const utf8 = new TextEncoder();
const bytes = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? utf8.encode(v) : v);

function tensorProto(name: string, t: OnnxTensor | OnnxRawTensor): Record<string, unknown> {
  const dataType = OnnxDataType[t.type];
  const base: Record<string, unknown> = { name, dims: t.dims, dataType };
  if ('raw' in t) {
    if (t.type === 'STRING') throw new Error('graph-builder: STRING initializers cannot be given as raw bytes');
    base.rawData = t.raw;
    return base;
  }
  // Float weights can be large: take typed arrays as they are, without an intermediate JS array.
  if (t.type === 'FLOAT' && t.values instanceof Float32Array) {
    base.rawData = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
    return base;
  }
  if (t.type === 'DOUBLE' && t.values instanceof Float64Array) {
    base.rawData = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
    return base;
  }
  const values = Array.from(t.values as ArrayLike<number | bigint | string>);
  switch (t.type) {
    case 'FLOAT':
      base.rawData = new Uint8Array(Float32Array.from(values as number[]).buffer);
      break;
    case 'DOUBLE':
      base.rawData = new Uint8Array(Float64Array.from(values as number[]).buffer);
      break;
    case 'INT64':
      base.rawData = new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v as number))).buffer);
      break;
    case 'INT32':
      base.rawData = new Uint8Array(Int32Array.from(values as number[]).buffer);
      break;
    case 'STRING':
      base.stringData = values.map((v) => bytes(String(v)));
      break;
    case 'BOOL':
    case 'UINT8':
      base.rawData = Uint8Array.from(values as number[]);
      break;
    default:
      throw new Error(`graph-builder: initializers of type ${t.type} are not supported`);
  }
  return base;
}

function attributeProto(name: string, a: Attr): Record<string, unknown> {
  switch (a.kind) {
    case 'f':
      return { name, type: OnnxAttributeType.FLOAT, f: a.value };
    case 'i':
      return { name, type: OnnxAttributeType.INT, i: a.value.toString() };
    case 's':
      return { name, type: OnnxAttributeType.STRING, s: bytes(a.value) };
    case 'floats':
      return { name, type: OnnxAttributeType.FLOATS, floats: Array.from(a.value) };
    case 'ints':
      return { name, type: OnnxAttributeType.INTS, ints: Array.from(a.value, (v) => v.toString()) };
    case 'strings':
      return { name, type: OnnxAttributeType.STRINGS, strings: Array.from(a.value, bytes) };
    case 't':
      return { name, type: OnnxAttributeType.TENSOR, t: tensorProto(name, a.value) };
    case 'g':
      return { name, type: OnnxAttributeType.GRAPH, g: a.value.graphProto() };
  }
}

function valueInfo(name: string, elemType: OnnxElemType, shape: Dim[] | undefined): Record<string, unknown> {
  const tensorType: Record<string, unknown> = { elemType: OnnxDataType[elemType] };
  if (shape) {
    tensorType.shape = {
      dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
    };
  }
  return { name, type: { tensorType } };
}

/**
 * Builds an ONNX ModelProto in memory, node by node; `toBytes()` gives what onnxruntime's
 * `InferenceSession.create(bytes)` takes. Used by the sklearn, XGBoost and TF converters.
 */
export class GraphBuilder {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly opsets = new Map<string, number>([['', 15]]);
  private counter = 0;

  /** `parent`: the graph a subgraph lives in (names are drawn from the outermost graph's counter). */
  constructor(
    private readonly name = 'servekit',
    private readonly parent?: GraphBuilder,
  ) {}

  /** A fresh tensor name with the given prefix, unique within this graph and all its subgraphs. */
  uniqueName(prefix: string): string {
    if (this.parent) return this.parent.uniqueName(prefix);
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  /**
   * A subgraph for a GRAPH attribute (`attr.g`). Its nodes may read this graph's tensors by name (outer scope);
   * its fresh names come from this graph's counter, so they never shadow an outer name. Opsets are the model's.
   */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, this);
  }

  /** Import an opset (`''` is ai.onnx, `'ai.onnx.ml'` the ML domain); keeps the highest version asked for. */
  opset(domain: string, version: number): this {
    if (this.parent) {
      this.parent.opset(domain, version);
      return this;
    }
    this.opsets.set(domain, Math.max(version, this.opsets.get(domain) ?? 0));
    return this;
  }

  /** Declare a graph input. */
  input(name: string, elemType: OnnxElemType, shape?: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** Declare a graph output. */
  output(name: string, elemType: OnnxElemType, shape?: Dim[]): string {
    this.outputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** Add a constant tensor (values, or raw little-endian bytes) and return its name. */
  constant(name: string, tensor: OnnxTensor | OnnxRawTensor): string {
    this.initializers.push(tensorProto(name, tensor));
    return name;
  }

  /** Add a node. Returns its output names (fresh ones when `outputs` is a count). */
  node(
    opType: string,
    inputs: string[],
    outputs: string[] | number = 1,
    attributes: Record<string, Attr> = {},
    domain = '',
  ): string[] {
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, () => this.uniqueName(opType.toLowerCase()))
        : outputs;
    if (domain === 'ai.onnx.ml') this.opset('ai.onnx.ml', 1);
    this.nodes.push({
      opType,
      domain,
      name: this.uniqueName(`node_${opType}`),
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    });
    return outs;
  }

  /** The GraphProto (as a protobufjs plain object) of this graph. */
  graphProto(): Record<string, unknown> {
    return {
      name: this.name,
      node: this.nodes,
      input: this.inputs,
      output: this.outputs,
      initializer: this.initializers,
    };
  }

  /** The serialized ModelProto. */
  toBytes(): Uint8Array {
    const model = {
      irVersion: 8,
      producerName: 'servekit',
      producerVersion: '0.1.0',
      opsetImport: [...this.opsets].map(([domain, version]) => ({ domain, version })),
      graph: this.graphProto(),
    };
    return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
  }
}
