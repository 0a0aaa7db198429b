// Per-call cost of ModelInfer's request context, before and after it made its abort signal lazily and detached it
// once answered (issue 15): grpc-js reports every stream close as a cancellation ('cancelled' on the call, one tick
// after the answer), so the previous context aborted an AbortController (a DOMException, an 'abort' event) after
// every call. Both versions build the context of a call carrying grpc-js's usual metadata, then see that
// 'cancelled'; calls per CPU second, alternating rounds in one process.
// Usage: node bench/grpc-call-context.mjs [--calls 200000] [--rounds 5]
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: { calls: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } },
});
const calls = Number(opts.calls);
const grpc = createRequire(join(ROOT, 'packages/core/package.json'))('@grpc/grpc-js');
const dist = (m) => import(join(ROOT, 'packages/core/dist', m));
const { grpcCallContext } = await dist('protocols/grpc-call-context.js');
const { makeContext } = await dist('protocols/context.js');
const { deadlineFromGrpc, earliest } = await dist('admission/deadline.js');
const { grpcCallSpan } = await dist('tracing/grpc-tracing.js');

/** The context as ModelInfer built it before (commit 748e660's grpcContext in v2-grpc.ts). */
function before(call, bodyId) {
  const headers = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = typeof v === 'string' ? v : v.toString();
  const ac = new AbortController();
  call.once('cancelled', () => ac.abort());
  const ctx = makeContext(headers, 'grpc-v2', ac.signal, bodyId, grpcCallSpan(call));
  ctx.deadline = earliest(ctx.deadline, deadlineFromGrpc(call.getDeadline()));
  return ctx;
}

/** A call as grpc-js hands it to a unary handler, with the metadata a grpc-js client sends. */
function fakeCall() {
  const call = new EventEmitter();
  call.cancelled = false;
  call.metadata = new grpc.Metadata();
  call.metadata.set('user-agent', 'grpc-node-js/1.14.7');
  call.getDeadline = () => Number.POSITIVE_INFINITY;
  return call;
}

const variants = {
  before: () => {
    const call = fakeCall();
    before(call, '');
    call.cancelled = true;
    call.emit('cancelled', 'cancelled');
  },
  after: () => {
    const call = fakeCall();
    const { settle } = grpcCallContext(call, '');
    settle();
    call.cancelled = true;
    call.emit('cancelled', 'cancelled');
  },
};

const best = { before: 0, after: 0 };
for (let r = 0; r < Number(opts.rounds); r++) {
  for (const [name, run] of Object.entries(variants)) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) run();
    const t = process.cpuUsage(t0);
    best[name] = Math.max(best[name], calls / ((t.user + t.system) / 1e6));
  }
}
const us = (name) => 1e6 / best[name];
process.stdout.write(
  `ModelInfer request context + the 'cancelled' grpc-js emits at stream close, best of ${opts.rounds} rounds:\n` +
    `  before ${us('before').toFixed(2)} µs/call, after ${us('after').toFixed(2)} µs/call ` +
    `(${(us('before') - us('after')).toFixed(2)} µs less; a fake call object costs the same in both)\n`,
);
