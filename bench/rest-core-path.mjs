// servekit's own V2 request path without HTTP, in one process: body bytes → parseV2JsonBody → decodeInferRequest →
// makeContext → dataplane.inferV2 (rf_iris ONNX, its session on the event loop) → encodeInferResponse → bytes, 64
// requests in flight. Prints the process CPU µs per request of each round (no sockets, no fastify: what is left is
// the dataplane, codecs, metrics, statistics and onnxruntime). Run it for two builds alternately to compare them.
// Usage: node bench/rest-core-path.mjs [--root DIR (a built checkout; default this one)] [--rounds 5] [--requests 6400]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    root: { type: 'string', default: ROOT },
    rounds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '6400' },
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

/** CPU µs per request of `n` requests, 64 at a time. */
async function round(n) {
  const cpu0 = process.cpuUsage();
  let left = n;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (left-- > 0) await one();
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

await round(Number(opts.requests)); // warm-up
const rounds = [];
for (let r = 0; r < Number(opts.rounds); r++) rounds.push(await round(Number(opts.requests)));
process.stdout.write(
  `${opts.root}: CPU µs per request, min ${Math.min(...rounds).toFixed(1)} [${rounds.map((x) => x.toFixed(1)).join(' ')}]\n`,
);
await server.stop();
