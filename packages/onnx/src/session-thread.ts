/**
 * The body of `WorkerSession`'s worker thread: one onnxruntime session, created from ModelProto bytes and run on
 * the tensors posted to it. Output buffers go back transferred (no copy).
 */
import { parentPort } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { fp16Tensor, type ThreadReply, type ThreadRequest, toWire, type WireTensor } from './session-wire.js';

const port = parentPort;
if (!port) throw new Error('session-thread.js runs only as a worker thread (WorkerSession starts it)');

let session: InferenceSession | undefined;

/** The loaded session; a run before the load is an error answered to the caller. */
function loaded(): InferenceSession {
  if (!session) throw new Error('the onnxruntime session is not created yet');
  return session;
}

/** Answer one request, and the buffers to transfer with the answer. */
async function handle(msg: ThreadRequest): Promise<{ reply: ThreadReply; transfer: ArrayBuffer[] }> {
  if (msg.type === 'load') {
    session = await InferenceSession.create(msg.bytes, msg.options);
    const info = { inputMetadata: [...session.inputMetadata], outputMetadata: [...session.outputMetadata] };
    return { reply: { id: msg.id, info }, transfer: [] };
  }
  if (msg.type === 'run') {
    const feeds: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(msg.feeds)) {
      feeds[name] = fp16Tensor(new Tensor(t.type as 'float32', t.data as Float32Array, t.dims), t.data);
    }
    const out = await loaded().run(feeds);
    const outputs: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(out)) {
      outputs[name] = toWire(t);
      if (t.type !== 'string') transfer.push((t.data as Float32Array).buffer as ArrayBuffer);
    }
    return { reply: { id: msg.id, outputs }, transfer };
  }
  await session?.release();
  return { reply: { id: msg.id }, transfer: [] };
}

port.on('message', (msg: ThreadRequest) => {
  handle(msg).then(
    ({ reply, transfer }) => port.postMessage(reply, transfer),
    (err: unknown) => {
      const message = (err as { message?: unknown } | null)?.message;
      port.postMessage({ id: msg.id, error: message ? String(message) : String(err) } satisfies ThreadReply);
    },
  );
});
