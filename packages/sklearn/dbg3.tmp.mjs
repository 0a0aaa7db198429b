import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { convertSklearnBytes } from './dist/index.js';
const name = process.argv[2];
const bytes = new Uint8Array(readFileSync(`test/fixtures/models-more/${name}.joblib`));
const exp = JSON.parse(readFileSync('test/fixtures/models-more/expected.json','utf8')).cases.find(c=>c.name===name);
const x = exp.inputs[0];
const m = convertSklearnBytes(bytes);
for (const level of ['all', 'extended', 'basic', 'disabled']) {
  const sess = await ort.InferenceSession.create(m.onnx, { graphOptimizationLevel: level });
  const out = await sess.run({ X: new ort.Tensor('float64', Float64Array.from(x), [1, x.length]) });
  console.log(level, Object.fromEntries(Object.entries(out).map(([k,v])=>[k, v.data[0]])), JSON.stringify(exp.methods.predict[0]));
}
