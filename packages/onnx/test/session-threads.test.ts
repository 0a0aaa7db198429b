// Session options cross into the worker thread that owns the session: onnxruntime's intra-op pool gets
// intraOpNumThreads - 1 threads of its own (the calling thread is the first), counted in /proc/self/task.
// Own file: vitest runs each file in its own process, so no other test starts or stops threads meanwhile.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OnnxModel } from '@servekit/onnx';
import { describe, expect, it } from 'vitest';

const RELU = fileURLToPath(new URL('../../../../shared/fixtures/onnx/node/test_relu/model.onnx', import.meta.url));
const threads = () => readdirSync('/proc/self/task').length;

/** Threads this process gains while a model loaded with `intraOpNumThreads: n` is held. */
async function threadsAddedBy(n: number): Promise<number> {
  const before = threads();
  const model = new OnnxModel(`intra-${n}`, { modelPath: RELU, sessionOptions: { intraOpNumThreads: n } });
  await model.load();
  const added = threads() - before;
  await model.unload();
  return added;
}

describe.skipIf(!existsSync('/proc/self/task'))('OnnxModel session options in the worker', () => {
  it('sizes onnxruntime’s intra-op pool from intraOpNumThreads', async () => {
    await threadsAddedBy(1); // warm-up: the first load also starts libuv's and V8's lazily created threads
    const one = await threadsAddedBy(1);
    const four = await threadsAddedBy(4);
    expect(four - one).toBe(3);
  });
});
