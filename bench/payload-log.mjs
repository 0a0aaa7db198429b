// Payload logging's cost on inference: the same `servekit serve` (iris logreg ONNX, V2 REST JSON) with logging off,
// on to a fast receiver, on to a receiver that is down (connection refused) and on to a slow one (200 ms per event),
// rounds interleaved so a load change on the machine hits every case alike; medians of the rounds are reported.
// Usage: node bench/payload-log.mjs [--duration 2] [--warmup 0.5] [--rounds 3] [--slow_ms 200]
import { once } from 'node:events';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { writeResults } from './lib/results.mjs';
import { ROOT, runLoadgen, serve, stopServer } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '0.5' },
    rounds: { type: 'string', default: '3' },
    slow_ms: { type: 'string', default: '200' },
  },
});
const rounds = Number(opts.rounds);
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
const slowMs = Number(opts.slow_ms);
const IRIS = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/logreg_iris');
const body = Buffer.from(
  JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [5.1, 3.5] }] }),
).toString('base64');

/** A CloudEvents receiver on loopback answering 200 after `delayMs`; counts the events it got. */
async function receiver(delayMs) {
  const stats = { events: 0 };
  const server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      stats.events++;
      if (delayMs > 0) setTimeout(() => res.writeHead(200).end(), delayMs);
      else res.writeHead(200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, stats, url: `http://127.0.0.1:${server.address().port}/` };
}

/** A loopback URL nothing listens on. */
async function refusedUrl() {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return `http://127.0.0.1:${port}/`;
}

/** The payload-log counters of a server's /metrics. */
async function logCounters(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (re) => Number(re.exec(text)?.[1] ?? 0);
  return {
    sent:
      value(/servekit_payload_log_sent_total\{type="request"\} ([\d.e+]+)/) +
      value(/servekit_payload_log_sent_total\{type="response"\} ([\d.e+]+)/),
    failed: value(/servekit_payload_log_failed_total ([\d.e+]+)/),
    dropped: value(/servekit_payload_log_dropped_total ([\d.e+]+)/),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const fast = await receiver(0);
const slow = await receiver(slowMs);
const cases = [
  ['logging off', []],
  ['on, fast receiver', ['--log_url', fast.url]],
  ['on, receiver down (refused)', ['--log_url', await refusedUrl()]],
  [`on, slow receiver (${slowMs} ms/event)`, ['--log_url', slow.url]],
];
const servers = [];
const rows = [];
try {
  for (const [, flags] of cases) servers.push(await serve(IRIS, 'iris', flags));
  const runs = cases.map(() => ({ c1: [], c8: [] }));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < cases.length; i++) {
      for (const c of [1, 8]) {
        const target = `http://127.0.0.1:${servers[i].port}`;
        const cpu0 = cpuSeconds(servers[i].proc.pid);
        const r = await runLoadgen({
          kind: 'http',
          path: '/v2/models/iris/infer',
          body,
          target,
          concurrency: c,
          durationMs,
          warmupMs,
        });
        if (r.errors > 0 || r.requests === 0) throw new Error(`${cases[i][0]} c=${c}: ${r.errors} errors`);
        // Server CPU per request: the CPU of the whole run (warmup included) over the requests it served.
        r.serverCpuMs = ((cpuSeconds(servers[i].proc.pid) - cpu0) * 1000) / (r.rps * ((durationMs + warmupMs) / 1000));
        runs[i][`c${c}`].push(r);
      }
    }
    process.stdout.write(`round ${round + 1}/${rounds} done\n`);
  }
  for (let i = 0; i < cases.length; i++) {
    const { c1, c8 } = runs[i];
    const pick = (rs, k) => median(rs.map((r) => r[k]));
    const row = {
      label: cases[i][0],
      c1: { rps: pick(c1, 'rps'), p50: pick(c1, 'p50'), p99: pick(c1, 'p99') },
      c8: { rps: pick(c8, 'rps'), p50: pick(c8, 'p50'), p99: pick(c8, 'p99'), cpuMs: pick(c8, 'serverCpuMs') },
      counters: i === 0 ? undefined : await logCounters(servers[i].port),
    };
    rows.push(row);
  }
} finally {
  for (const s of servers) await stopServer(s);
  fast.server.close();
  slow.server.closeAllConnections();
  slow.server.close();
}

const base = rows[0];
process.stdout.write(
  '\n| case | c=1 p50 ms | c=1 p99 ms | c=8 req/s | ÷ off | c=8 p99 ms | server CPU ms/req (c=8) | events sent / failed / dropped |\n' +
    '| --- | --- | --- | --- | --- | --- | --- | --- |\n',
);
for (const r of rows) {
  const k = r.counters;
  process.stdout.write(
    `| ${r.label} | ${r.c1.p50.toFixed(2)} | ${r.c1.p99.toFixed(2)} | ${Math.round(r.c8.rps)} | ${(r.c8.rps / base.c8.rps).toFixed(2)} | ${r.c8.p99.toFixed(2)} | ${r.c8.cpuMs.toFixed(2)} | ${k ? `${k.sent} / ${k.failed} / ${k.dropped}` : '–'} |\n`,
  );
}
const { machine } = writeResults('payload-log', { durationMs, warmupMs, rounds, slowMs, rows });
process.stdout.write(`\nmachine: ${JSON.stringify(machine)}\nwritten: bench/out/payload-log.json\n`);
