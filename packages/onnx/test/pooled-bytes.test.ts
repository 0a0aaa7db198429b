// Model bytes handed to the worker thread are copied into a fresh ArrayBuffer and transferred. A small Buffer (as
// protobufjs encodes a converted sklearn model) lives in Node's shared Buffer pool, which Node >= 22 refuses to
// transfer ("Cannot transfer object of unsupported type": every small sklearn model failed to load there).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OnnxModel } from '@servekit/onnx';
import { describe, expect, it } from 'vitest';

const RELU = fileURLToPath(new URL('../../../../shared/fixtures/onnx/node/test_relu/model.onnx', import.meta.url));

describe('OnnxModel from in-memory bytes', () => {
  it('loads a model given as a small pooled Buffer and leaves the pool alone', async () => {
    const file = readFileSync(RELU);
    const bytes = Buffer.from(file); // under 4 KiB: carved out of the shared pool
    const neighbour = Buffer.from('another pooled buffer');
    const model = new OnnxModel('relu', { modelBytes: bytes, execution: 'worker' });
    await model.load();
    expect(model.metadata().inputs.map((i) => i.name)).toEqual(['x']);
    expect(bytes.equals(file)).toBe(true);
    expect(neighbour.toString()).toBe('another pooled buffer');
    await model.unload();
  });
});
