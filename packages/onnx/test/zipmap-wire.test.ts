// stripZipMap works on the protobuf wire format (no protobufjs decode of the whole model): its output must be the
// model the decoded-and-re-encoded rewrite gave — every ZipMap fixture decoded with the schema and compared — with
// the Identity node in the ZipMap's place and every other field kept byte for byte.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelProtoType } from '../src/proto/onnx-schema.js';
import { stripZipMap } from '../src/zipmap.js';
import { mayHoldZipMap } from '../src/zipmap-probe.js';

const ONNX = fileURLToPath(new URL('../../../../shared/fixtures/onnx/', import.meta.url));
const WITH_ZIPMAP = [
  'sklearn-onnx-docs/rf_iris',
  'sklearn-onnx-docs/logreg_iris',
  'sklearn-onnx-docs/pipeline_titanic',
  'sklearn-onnx-docs/pipeline_xgboost',
  'sklearn-onnx-docs/pipeline_lightgbm',
  'sklearn-onnx-2018/SklearnKNeighborsClassifierMulti',
  'sklearn-onnx-2018/SklearnLogitisticRegressionMulti',
  'sklearn-onnx-2018/SklearnMclRandomForestClassifier',
  'sklearn-onnx-2018/SklearnBinNuSVCPT',
];

interface Obj {
  graph: {
    node: { opType: string; input: string[]; output: string[]; attribute?: { name: string; ints?: string[] }[] }[];
    output: { name: string }[];
  };
}
const decode = (bytes: Uint8Array) =>
  ModelProtoType.toObject(ModelProtoType.decode(bytes), { longs: String, defaults: false, arrays: true }) as Obj;

/** The rewrite on decoded objects (the implementation before the wire splice), Identity in the ZipMap's place. */
function expectedRewrite(bytes: Uint8Array): { model: Obj; names: string[] } {
  const model = decode(bytes);
  const outputs = new Set(model.graph.output.map((o) => o.name));
  const names: string[] = [];
  model.graph.node = model.graph.node.map((n) => {
    if (n.opType !== 'ZipMap' || !outputs.has(n.output[0]!)) return n;
    const name = n.output[0]!;
    names.push(name);
    const at = model.graph.output.findIndex((o) => o.name === name);
    model.graph.output[at] = {
      name,
      type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimParam: 'C' }] } } },
    } as { name: string };
    const identity = {
      input: [n.input[0]!],
      output: [name],
      name: `servekit_${name}`,
      opType: 'Identity',
      attribute: [],
    };
    return identity as Obj['graph']['node'][0];
  });
  return { model, names };
}

describe('stripZipMap on the wire format', () => {
  for (const fixture of WITH_ZIPMAP) {
    it(`${fixture}: the same model as the decoded rewrite, and onnxruntime loads it with tensor outputs`, async () => {
      const bytes = new Uint8Array(readFileSync(`${ONNX}${fixture}/model.onnx`));
      expect(mayHoldZipMap(bytes)).toBe(true);
      const r = stripZipMap(bytes);
      const expected = expectedRewrite(bytes);
      expect(r.rewritten).toBe(true);
      expect(decode(r.bytes)).toEqual(expected.model);
      expect(r.probabilities.map((p) => p.name)).toEqual(expected.names);
      const zipmap = decode(bytes).graph.node.find((n) => n.opType === 'ZipMap')!;
      const labels = zipmap.attribute!.find((a) => a.name.startsWith('classlabels_'))!;
      expect(r.probabilities[0]!.classLabels.length).toBeGreaterThan(0);
      if (labels.name === 'classlabels_int64s') expect(r.probabilities[0]!.classLabels).toEqual(labels.ints);
      const session = await ort.InferenceSession.create(r.bytes);
      try {
        const meta = session.outputMetadata as unknown as { name: string; isTensor: boolean }[];
        expect(meta.filter((m) => !m.isTensor)).toEqual([]);
        expect(meta.map((m) => m.name)).toEqual(decode(bytes).graph.output.map((o) => o.name));
      } finally {
        await session.release();
      }
    });
  }

  it('rf_iris: the label output, string labels as text, and every byte outside the graph kept', () => {
    const bytes = new Uint8Array(readFileSync(`${ONNX}sklearn-onnx-docs/rf_iris/model.onnx`));
    const r = stripZipMap(bytes);
    expect(r.labelOutput).toBe('output_label');
    expect(r.probabilities).toEqual([{ name: 'output_probability', classLabels: ['0', '1', '2'] }]);
    expect(r.nonTensorInputs).toEqual([]);
    // The file starts with ir_version and the producer fields, before the graph: they are copied as they are.
    const firstGraphByte = bytes.indexOf(0x3a); // field 7, wire type 2
    expect(Buffer.from(r.bytes.subarray(0, firstGraphByte))).toEqual(Buffer.from(bytes.subarray(0, firstGraphByte)));
    const titanic = stripZipMap(new Uint8Array(readFileSync(`${ONNX}sklearn-onnx-docs/pipeline_titanic/model.onnx`)));
    expect(titanic.probabilities[0]!.classLabels).toEqual(['0', '1']);
  });

  it('a file without a ZipMap is not decoded; truncated bytes are refused with a message', () => {
    const plain = new Uint8Array(readFileSync(`${ONNX}sklearn-onnx-docs/pipeline_titanic_nozipmap/model.onnx`));
    expect(mayHoldZipMap(plain)).toBe(false);
    expect(stripZipMap(plain)).toMatchObject({ rewritten: false, probabilities: [] });
    const bytes = new Uint8Array(readFileSync(`${ONNX}sklearn-onnx-docs/rf_iris/model.onnx`));
    expect(() => stripZipMap(bytes.subarray(0, bytes.length - 7))).toThrow(/not a valid ModelProto/);
  });
});
