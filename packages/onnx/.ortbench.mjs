import { OnnxModel } from './dist/index.js';
const m = new OnnxModel('rf_iris', { modelDir: '/work/shared/fixtures/onnx/sklearn-onnx-docs/rf_iris' });
await m.load();
const req = () => ({ inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2]) }] });
const N = 5000;
const ctx = { headers: {}, protocol: 'v2', requestId: 'x', signal: new AbortController().signal };
for (let k = 0; k < 3; k++) {
  let c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await m.predict(req(), ctx);
  let c1 = process.cpuUsage(c0);
  console.log('await predict', ((c1.user + c1.system) / N).toFixed(1), 'us');
  c0 = process.cpuUsage();
  for (let i = 0; i < N / 64; i++) await Promise.all(Array.from({ length: 64 }, () => m.predict(req(), ctx)));
  c1 = process.cpuUsage(c0);
  console.log('64 concurrent', ((c1.user + c1.system) / (Math.floor(N / 64) * 64)).toFixed(1), 'us');
}
