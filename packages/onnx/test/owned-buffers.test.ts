// A merged batch's input buffer crosses to the session thread transferred, not copied; any other input is copied
// and stays readable by its caller. Both give the same outputs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { markOwnedBuffer, takeOwnedBuffer } from '@servekit/core/wire';
import { WorkerSession } from '@servekit/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RELU = fileURLToPath(new URL('../../../../shared/fixtures/onnx/node/test_relu/model.onnx', import.meta.url));

describe('owned input buffers (WorkerSession)', () => {
  let session: WorkerSession;
  let inputName: string;
  beforeAll(async () => {
    const created = await WorkerSession.create(new Uint8Array(readFileSync(RELU)), {});
    session = created.session;
    inputName = created.info.inputMetadata[0]!.name;
  });
  afterAll(() => session.release());

  const values = () => Float32Array.from({ length: 60 }, (_, i) => i - 30);
  const relu = (a: Float32Array) => Array.from(a, (v) => Math.max(0, v));

  it('transfers a merged batch’s buffer (no copy) and answers the same outputs', async () => {
    const a = values();
    const data = a.slice();
    markOwnedBuffer(data); // what concatTensors does to a merged batch (packages/core/test/merge-owned.test.ts)
    const out = await session.run({ [inputName]: { type: 'float32', dims: [3, 4, 5], data } });
    expect(data.length).toBe(0); // detached: the buffer went to the worker as is
    expect(Array.from(Object.values(out)[0]!.data as Float32Array)).toEqual(relu(a));
  });

  it('copies an input it does not own and leaves the caller’s array intact', async () => {
    const data = values();
    const out = await session.run({ [inputName]: { type: 'float32', dims: [3, 4, 5], data } });
    expect(data.length).toBe(60);
    expect(Array.from(Object.values(out)[0]!.data as Float32Array)).toEqual(relu(values()));
  });

  it('copies a view over part of an owned buffer, and gives a buffer away at most once', () => {
    const whole = new Float32Array(8);
    markOwnedBuffer(whole);
    expect(takeOwnedBuffer(whole.subarray(0, 4))).toBe(false);
    expect(takeOwnedBuffer(whole)).toBe(true);
    expect(takeOwnedBuffer(whole)).toBe(false);
  });
});
