// The batching path's own per-request CPU on the event loop, without HTTP and without the model: 64 closed-loop
// callers submit 1×256 FP32 requests to a Batcher (metrics on, each request with the context the checkout's REST
// plugin makes: its `restContext` over a stand-in response) whose model answers a [rows, 10] output on the next turn of the loop, like a worker-thread reply. Batchers
// of several checkouts run alternately (every other round in reverse order) in this one process; CPU time (not wall
// time) per request.
//   node bench/batcher-overhead.mjs [--rounds 7] [--requests 60000] [--before <checkout with built dist>]
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { ROOT } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    requests: { type: 'string', default: '60000' },
    concurrency: { type: 'string', default: '64' },
    before: { type: 'string' },
  },
});
const rounds = Number(opts.rounds);
const requests = Number(opts.requests);
const concurrency = Number(opts.concurrency);

/** The Batcher, batch metrics and REST context maker of a checkout's built core package. */
async function load(root) {
  const dist = join(root, 'packages/core/dist');
  const { Batcher, batchMetrics } = await import(pathToFileURL(join(dist, 'batching/batcher.js')).href);
  const { restContext } = await import(pathToFileURL(join(dist, 'protocols/rest-helpers.js')).href);
  return { Batcher, batchMetrics, restContext };
}

/** A stand-in for fastify's reply.raw: an emitter with the fields the REST context reads; closes once answered. */
class FakeResponse extends EventEmitter {
  destroyed = false;
  writableFinished = false;
}

/** The model: a [rows, 10] FP32 output, answered on the next turn of the event loop. */
function model(payload) {
  const rows = payload.inputs[0].shape[0];
  return new Promise((resolve) =>
    setImmediate(() =>
      resolve({
        model_name: 'm',
        outputs: [{ name: 'y', datatype: 'FP32', shape: [rows, 10], data: new Float32Array(rows * 10) }],
      }),
    ),
  );
}

/** CPU µs per request of `requests` requests through a fresh Batcher of `impl`. */
async function measure(impl) {
  const b = new impl.Batcher(
    'm',
    model,
    { maxBatchSize: 32, maxLatencyMs: 2, maxInflightBatches: 1 },
    impl.batchMetrics(new Registry()),
  );
  let sent = 0;
  const caller = async () => {
    while (sent < requests) {
      sent++;
      const res = new FakeResponse();
      const data = new Float32Array(256).fill(0.5);
      const payload = {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 256], data, parameters: { binary_data_size: 1024 } }],
      };
      await b.submit(payload, impl.restContext({ headers: {} }, { raw: res }, 'v2'));
      res.writableFinished = true;
      res.destroyed = true;
      res.emit('close');
    }
  };
  const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, caller));
  const c = process.cpuUsage(c0);
  await b.close();
  return (c.user + c.system) / requests;
}

const impls = { after: await load(ROOT) };
if (opts.before) impls.before = await load(opts.before);
const results = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
for (const impl of Object.values(impls)) await measure(impl); // warm-up
for (let round = 0; round < rounds; round++) {
  // Every other round in reverse order, so neither batcher always runs first.
  const order = round % 2 ? Object.entries(impls).reverse() : Object.entries(impls);
  for (const [name, impl] of order) results[name].push(await measure(impl));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of Object.entries(results)) {
  process.stdout.write(
    `${name.padEnd(7)} ${median(xs).toFixed(2)} µs/request CPU (median of ${rounds}; ${xs.map((x) => x.toFixed(2)).join(' ')})\n`,
  );
}
if (results.before) {
  const ratios = results.after.map((a, i) => a / results.before[i]);
  process.stdout.write(`after ÷ before: ${median(ratios).toFixed(3)} (median of the per-round ratios)\n`);
}
