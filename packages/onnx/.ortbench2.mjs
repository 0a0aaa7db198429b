import { OnnxModel } from './dist/index.js';
const variants = {
  default: {},
  arenaOn: { enableCpuMemArena: true },
  memPatternOff: { enableMemPattern: false },
  seq: { executionMode: 'sequential' },
  optAll: { graphOptimizationLevel: 'all' },
  inter1: { interOpNumThreads: 1 },
  all: { enableCpuMemArena: true, executionMode: 'sequential', interOpNumThreads: 1, graphOptimizationLevel: 'all' },
};
const models = {};
for (const [k, o] of Object.entries(variants)) {
  const m = new OnnxModel('rf_iris', { modelDir: '/work/shared/fixtures/onnx/sklearn-onnx-docs/rf_iris', sessionOptions: o });
  await m.load();
  models[k] = m;
}
const req = () => ({ inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2]) }] });
const ctx = { headers: {}, protocol: 'v2', requestId: 'x', signal: new AbortController().signal };
const res = {};
for (let k = 0; k < 6; k++) {
  for (const [name, m] of Object.entries(models)) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 40; i++) await Promise.all(Array.from({ length: 64 }, () => m.predict(req(), ctx)));
    const c1 = process.cpuUsage(c0);
    (res[name] ??= []).push((c1.user + c1.system) / 2560);
  }
}
for (const [n, v] of Object.entries(res)) console.log(n.padEnd(14), 'min', Math.min(...v).toFixed(1), 'med', [...v].sort((a,b)=>a-b)[3].toFixed(1));
