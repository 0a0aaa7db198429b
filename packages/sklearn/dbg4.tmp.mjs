import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { convertSklearnBytes } from './dist/index.js';
const name = process.argv[2];
const m = convertSklearnBytes(new Uint8Array(readFileSync(`test/fixtures/models-more/${name}.joblib`)));
await ort.InferenceSession.create(m.onnx, { graphOptimizationLevel: 'extended', optimizedModelFilePath: '/tmp/x/opt.onnx' });
await ort.InferenceSession.create(m.onnx, { graphOptimizationLevel: 'basic', optimizedModelFilePath: '/tmp/x/basic.onnx' });
