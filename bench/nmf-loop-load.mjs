// NMF transform as an ONNX Loop: conversion time, onnxruntime session creation (load) time, one run, per fixture.
// Usage (after `npx tsc -b`): node bench/nmf-loop-load.mjs
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convertSklearnBytes } from '@servekit/sklearn';
import * as ort from 'onnxruntime-node';

const dir = fileURLToPath(new URL('../packages/sklearn/test/fixtures/nmf/', import.meta.url));
const expected = JSON.parse(readFileSync(`${dir}expected.json`, 'utf8'));
for (const c of expected.cases) {
  const t0 = performance.now();
  const model = convertSklearnBytes(new Uint8Array(readFileSync(`${dir}${c.file}`)));
  const t1 = performance.now();
  const session = await ort.InferenceSession.create(model.onnx);
  const t2 = performance.now();
  const feeds = {};
  for (const f of model.encoder.encodeInstances(c.inputs)) feeds[f.name] = new ort.Tensor('float64', f.data, f.dims);
  await session.run(feeds);
  const t3 = performance.now();
  await session.release();
  console.log(
    `${c.name.padEnd(22)} components=${String(c.n_components).padStart(2)} sweeps=${String(c.n_iter).padStart(3)}/${c.max_iter}`,
    `rows=${c.inputs.length} onnx=${model.onnx.length}B convert=${(t1 - t0).toFixed(0)}ms`,
    `session=${(t2 - t1).toFixed(0)}ms run=${(t3 - t2).toFixed(1)}ms`,
  );
}
