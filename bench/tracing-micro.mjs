// CPU cost of tracing per inference, in process (no sockets, so other load on the machine does not swing it as much as
// a load test): a DataPlane runs an echo model's pipeline for a V2 request, alternating blocks without a span (tracing
// off) and with a server span from a real tracer (sampled: 4 spans per request exported over OTLP/HTTP to a receiver
// in a child process, each block flushed so its export counts in its own time; unsampled: a client traceparent with
// flags 00). Reports the median CPU µs per request of each.
//
// Usage: node bench/tracing-micro.mjs [--blocks 40] [--per-block 2000]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Model, ModelServer, startTracing } from '../packages/core/dist/index.js';

const { values: opts } = parseArgs({
  options: { blocks: { type: 'string', default: '40' }, 'per-block': { type: 'string', default: '2000' } },
});
const blocks = Number(opts.blocks);
const perBlock = Number(opts['per-block']);

// The OTLP receiver in its own process: it reads and drops each export.
const receiver = spawn(
  process.execPath,
  [
    '-e',
    `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => s.end('{}')); })
       .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise((resolve) => receiver.stdout.once('data', (d) => resolve(Number(String(d)))));

class Echo extends Model {
  predict(payload) {
    return { model_name: this.name, outputs: payload.inputs };
  }
}
const server = new ModelServer({ logLevel: 'silent', defaultMetrics: false });
server.repository.register(new Echo('echo'));
await server.repository.loadAll();
const dataplane = server.dataplane;
const tracer = await startTracing({ serviceName: 'micro', endpoint: `http://127.0.0.1:${port}/v1/traces` }, 'bench');
const request = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(5.1, 3.5) }] };
const signal = new AbortController().signal;
const attrs = {
  'http.request.method': 'POST',
  'url.path': '/v2/models/echo/infer',
  'http.route': '/v2/models/:name/infer',
};

const variants = {
  off: async () => {
    await dataplane.inferV2('echo', undefined, request, {
      headers: {},
      protocol: 'v2',
      requestId: 'r',
      signal,
      span: undefined,
    });
  },
  'on, sampled': async () => {
    const span = tracer.startServerSpan('POST /v2/models/:name/infer', {}, attrs);
    await dataplane.inferV2('echo', undefined, request, { headers: {}, protocol: 'v2', requestId: 'r', signal, span });
    span.setAttributes({ 'http.response.status_code': 200 });
    span.end();
  },
  'on, not sampled': async () => {
    const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' };
    const span = tracer.startServerSpan('POST /v2/models/:name/infer', headers, attrs);
    await dataplane.inferV2('echo', undefined, request, { headers, protocol: 'v2', requestId: 'r', signal, span });
    span.end();
  },
};

const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const names = Object.keys(variants);
for (let b = 0; b < blocks; b++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + b) % names.length];
    const run = variants[name];
    const c0 = process.cpuUsage();
    for (let n = 0; n < perBlock; n++) await run();
    // Export this block's spans now, so their serialization and sending count in this block (not a later one).
    await tracer.flush();
    const c = process.cpuUsage(c0);
    if (b > 1) samples[name].push((c.user + c.system) / perBlock); // first two blocks: warm-up
  }
}
await tracer.shutdown();
await server.stop();
receiver.kill();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const off = median(samples.off);
for (const name of names) {
  const m = median(samples[name]);
  process.stdout.write(
    `${name.padEnd(16)} ${m.toFixed(1)} µs CPU per request (+${(m - off).toFixed(1)} µs, ×${(m / off).toFixed(2)})\n`,
  );
}
