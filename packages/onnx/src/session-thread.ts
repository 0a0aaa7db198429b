/**
 * The body of `WorkerSession`'s worker thread: one onnxruntime session, created from ModelProto bytes and run on
 * the tensors posted to it: on onnxruntime-node's native binding directly (`DirectSession`) where it is usable, else on
 * the public API. Output buffers go back transferred (no copy).
 */
import { parentPort } from 'node:worker_threads';
import { DirectSession } from './ort-direct-session.js';
import {
  openPublicSession,
  outputsToWire,
  type PublicSession,
  publicFeeds,
  type ThreadReply,
  type ThreadRequest,
  type WireTensor,
} from './session-wire.js';

const port = parentPort;
if (!port) throw new Error('session-thread.js runs only as a worker thread (WorkerSession starts it)');

let direct: DirectSession | undefined;
let pub: PublicSession | undefined;

/** Every output of a run on the public API. */
async function publicRun(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
  if (!pub) throw new Error('the onnxruntime session is not created yet');
  return outputsToWire(await pub.session.run(publicFeeds(pub, feeds)));
}

/** Answer one request, and the buffers to transfer with the answer. */
async function handle(msg: ThreadRequest): Promise<{ reply: ThreadReply; transfer: ArrayBuffer[] }> {
  if (msg.type === 'load') {
    direct = DirectSession.create(msg.bytes, msg.options);
    if (direct) return { reply: { id: msg.id, info: direct.info, api: 'direct' }, transfer: [] };
    pub = await openPublicSession(msg.bytes, msg.options);
    return { reply: { id: msg.id, info: pub.info, api: 'public' }, transfer: [] };
  }
  if (msg.type === 'run') {
    const outputs = direct ? outputsToWire(direct.run(msg.feeds)) : await publicRun(msg.feeds);
    const transfer: ArrayBuffer[] = [];
    for (const name in outputs) {
      const t = outputs[name]!;
      if (t.type !== 'string') transfer.push((t.data as Float32Array).buffer as ArrayBuffer);
    }
    return { reply: { id: msg.id, outputs }, transfer };
  }
  direct?.release();
  await pub?.session.release();
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
