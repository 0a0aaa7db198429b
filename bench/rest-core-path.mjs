// servekit's own V2 request path without HTTP, in one process: body bytes → parseV2JsonBody → decodeInferRequest →
// makeContext → dataplane.inferV2 (rf_iris ONNX, its session on the event loop) → encodeInferResponse → bytes, 64
// requests in flight. Prints the process CPU µs per request of each round (no sockets, no fastify: what is left is
// the dataplane, codecs, metrics, statistics and onnxruntime). Run it for two builds alternately to compare them.
// With --alloc it prints, per round, the JS heap bytes allocated per request and the bytes scavenges promoted to the
// old generation per request (from v8.GCProfiler's heap statistics around every GC of the round).
// Usage: node bench/rest-core-path.mjs [--root DIR (a built checkout; default this one)] [--rounds 5] [--requests 6400]
//        [--alloc]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { GCProfiler } from 'node:v8';
import { ROOT } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    root: { type: 'string', default: ROOT },
    rounds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '6400' },
    alloc: { type: 'boolean', default: false },
  },
});
const load = (rel) => import(pathToFileURL(join(opts.root, rel)).href);
const { ModelServer } = await load('packages/core/dist/index.js');
const { OnnxModel } = await load('packages/onnx/dist/index.js');
const { parseV2JsonBody } = await load('packages/core/dist/tensor/json-numeric.js');
const { decodeInferRequest, encodeInferResponse } = await load('packages/core/dist/protocols/v2-codec.js');
const { makeContext } = await load('packages/core/dist/protocols/context.js');

const server = new ModelServer({
  httpPort: 0,
  grpcPort: 0,
  host: '127.0.0.1',
  defaultMetrics: false,
  logLevel: 'silent',
  enableGrpc: false,
});
const modelDir = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/rf_iris');
await server.start([new OnnxModel('rf_iris', { modelDir })]);
const dataplane = server.dataplane;
const body = Buffer.from(
  '{"inputs":[{"name":"float_input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}',
);
const headers = { 'content-type': 'application/json', host: '127.0.0.1', 'content-length': String(body.length) };

/** One request through the path, as the V2 REST route runs it. */
async function one() {
  const parsed = parseV2JsonBody(body, dataplane.limits.maxJsonDepth);
  const req = decodeInferRequest(parsed.body, undefined, { limits: dataplane.limits, numericData: parsed.blocks });
  const ctx = makeContext(headers, 'v2', () => new AbortController().signal, req.id);
  const res = await dataplane.inferV2('rf_iris', undefined, req, ctx);
  return Buffer.from(encodeInferResponse(res, req).json);
}

/** Used bytes of the heap and of its old generation in a GCProfiler heap snapshot. */
function used(stats) {
  const old = stats.heapSpaceStatistics.find((s) => s.spaceName === 'old_space')?.spaceUsedSize ?? 0;
  return { heap: stats.heapStatistics.usedHeapSize, old };
}

/**
 * Bytes allocated and promoted over a profiled stretch: every GC's used-before less the previous GC's used-after
 * (what was allocated between them), plus the growth of the old space across each scavenge (what it promoted).
 */
function allocation(statistics, start, end) {
  let allocated = 0;
  let promoted = 0;
  let prev = start;
  for (const gc of statistics) {
    const before = used(gc.beforeGC);
    const after = used(gc.afterGC);
    allocated += before.heap - prev;
    if (gc.gcType === 'Scavenge') promoted += Math.max(0, after.old - before.old);
    prev = after.heap;
  }
  allocated += end - prev;
  return { allocated, promoted };
}

/** CPU µs per request of `n` requests, 64 at a time (with --alloc: bytes allocated and promoted per request). */
async function round(n) {
  const profiler = opts.alloc ? new GCProfiler() : undefined;
  const heap0 = process.memoryUsage().heapUsed;
  profiler?.start();
  const cpu0 = process.cpuUsage();
  let left = n;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (left-- > 0) await one();
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const heap1 = process.memoryUsage().heapUsed;
  const gcs = profiler?.stop();
  const alloc = gcs && allocation(gcs.statistics, heap0, heap1);
  return {
    cpu: (cpu.user + cpu.system) / n,
    allocated: alloc ? alloc.allocated / n : 0,
    promoted: alloc ? alloc.promoted / n : 0,
  };
}

await round(Number(opts.requests)); // warm-up
const rounds = [];
for (let r = 0; r < Number(opts.rounds); r++) rounds.push(await round(Number(opts.requests)));
const cpus = rounds.map((r) => r.cpu);
process.stdout.write(
  `${opts.root}: CPU µs per request, min ${Math.min(...cpus).toFixed(1)} [${cpus.map((x) => x.toFixed(1)).join(' ')}]\n`,
);
if (opts.alloc) {
  const fmt = (xs) =>
    `median ${xs.sort((a, b) => a - b)[xs.length >> 1].toFixed(0)} [${xs.map((x) => x.toFixed(0)).join(' ')}]`;
  process.stdout.write(`  bytes allocated per request: ${fmt(rounds.map((r) => r.allocated))}\n`);
  process.stdout.write(`  bytes promoted per request:  ${fmt(rounds.map((r) => r.promoted))}\n`);
}
await server.stop();
