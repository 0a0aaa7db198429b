import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { writeResults } from './lib/results.mjs';
import { ROOT, runLoadgen, serveArgv, startServer, stopServer } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '0.3' },
    rounds: { type: 'string', default: '12' },
    baseline: { type: 'string' },
  },
});
const rounds = Number(opts.rounds);
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
const IRIS = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/logreg_iris');

// The OTLP/HTTP receiver: reads each export (JSON) and counts its spans.
let spansReceived = 0;
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spansReceived += ss.spans.length;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${receiver.address().port}`;

const f32 = (values) => Buffer.from(Float32Array.from(values).buffer);
const json = {
  kind: 'http',
  path: '/v2/models/iris/infer',
  body: Buffer.from(
    JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [5.1, 3.5] }] }),
  ).toString('base64'),
};
const grpcReq = {
  kind: 'grpc',
  grpcRequest: {
    model_name: 'iris',
    inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2] }],
    raw_input_contents: [f32([5.1, 3.5]).toString('base64')],
  },
};

const irisArgs = ['--model_dir', IRIS, '--model_name', 'iris'];
const otel = (sampler, arg) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_SERVICE_NAME: 'bench',
  OTEL_TRACES_SAMPLER: sampler,
  ...(arg === undefined ? {} : { OTEL_TRACES_SAMPLER_ARG: arg }),
});
const variants = [
  ['tracing off', serveArgv([...irisArgs, '--enable_tracing', 'false']), {}],
  ['tracing off (2nd server)', serveArgv([...irisArgs, '--enable_tracing', 'false']), {}],
  ['tracing on, always_on', serveArgv([...irisArgs, '--enable_tracing']), otel('always_on')],
  ['tracing on, 1 % sampled', serveArgv([...irisArgs, '--enable_tracing']), otel('traceidratio', '0.01')],
];
if (opts.baseline) {
  const bin = join(opts.baseline, 'packages/cli/dist/bin.js');
  variants.unshift(['before tracing (baseline)', [bin, ...serveArgv(irisArgs).slice(1)], {}]);
}
const cases = [
  ['REST V2 JSON', json, (s) => `http://127.0.0.1:${s.port}`],
  ['gRPC V2 raw', grpcReq, (s) => `127.0.0.1:${s.grpcPort}`],
];
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const median = (xs) => quantile(xs, 0.5);
/** Median and interquartile range of `xs`. */
const spread = (xs) => ({ median: median(xs), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75) });
const fmt = (r) => `×${r.median.toFixed(2)} (${r.q1.toFixed(2)}–${r.q3.toFixed(2)})`;

const servers = new Map();
const runs = new Map();
try {
  for (const [label, argv, env] of variants) {
    const server = await startServer(argv, env);
    servers.set(label, server);
  }
  for (let round = 0; round < rounds; round++) {
    const order = variants.map((_v, i) => variants[(i + round) % variants.length]);
    for (const [caseLabel, spec, target] of cases) {
      for (const [label] of order) {
        const server = servers.get(label);
        for (const concurrency of [1, 8]) {
          const cpu0 = cpuSeconds(server.proc.pid);
          const r = await runLoadgen({ durationMs, warmupMs, ...spec, target: target(server), concurrency });
          const cpu = cpuSeconds(server.proc.pid) - cpu0;
          if (r.errors > 0 || r.requests === 0)
            throw new Error(`${label} ${caseLabel} c=${concurrency}: ${r.errors} errors`);
          const key = `${caseLabel}|${label}|${concurrency}`;
          if (!runs.has(key)) runs.set(key, []);
          // Server CPU per request, warm-up included on both sides of the ratio (loadgen counts measured requests only).
          runs.get(key).push({ ...r, cpuMsPerReq: (cpu * 1000) / (r.requests * (1 + warmupMs / durationMs)) });
        }
      }
    }
    process.stdout.write(`round ${round + 1}/${rounds} done\n`);
  }
} finally {
  for (const s of servers.values()) await stopServer(s); // SIGTERM flushes each server's spans
}
receiver.close();

const rows = [];
for (const [caseLabel] of cases) {
  const ref = (c) => runs.get(`${caseLabel}|tracing off|${c}`);
  for (const [label] of variants) {
    const c1 = runs.get(`${caseLabel}|${label}|1`);
    const c8 = runs.get(`${caseLabel}|${label}|8`);
    const row = {
      case: caseLabel,
      variant: label,
      c1p50: median(c1.map((r) => r.p50)),
      c1p99: median(c1.map((r) => r.p99)),
      c8rps: median(c8.map((r) => r.rps)),
      c8cpuMs: median(c8.map((r) => r.cpuMsPerReq)),
      // Ratios to "tracing off" in the same round (runs next to each other): median and interquartile range.
      c8rpsRatio: spread(c8.map((r, i) => r.rps / ref(8)[i].rps)),
      c8cpuRatio: spread(c8.map((r, i) => r.cpuMsPerReq / ref(8)[i].cpuMsPerReq)),
      c1p50Ratio: spread(c1.map((r, i) => r.p50 / ref(1)[i].p50)),
      runs: { c1, c8 },
    };
    rows.push(row);
    process.stdout.write(
      `${caseLabel.padEnd(13)} ${label.padEnd(26)} c=1 p50 ${row.c1p50.toFixed(3)} ms ${fmt(row.c1p50Ratio)} | ` +
        `c=8 ${Math.round(row.c8rps)} req/s ${fmt(row.c8rpsRatio)}, server CPU ${row.c8cpuMs.toFixed(3)} ms/req ` +
        `${fmt(row.c8cpuRatio)}\n`,
    );
  }
}
process.stdout.write(`spans received by the OTLP receiver: ${spansReceived}\n`);

const { machine } = writeResults('tracing', { durationMs, warmupMs, rounds, spansReceived, rows });
process.stdout.write(`machine: ${JSON.stringify(machine)}\nwritten: bench/out/tracing.json\n`);
