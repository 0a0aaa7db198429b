// Issue 14 side by side: the cost of each production feature (payload logging, tracing, auth, TLS, admission
// control) when off and when on, in ONE run. Identical `servekit serve` processes of the iris logreg ONNX model,
// each with one feature on (and one with all of them), are driven in turn, round after round (order rotated), with
// V2 REST JSON at a fixed concurrency. Reports medians over rounds of req/s, p50/p99 and the server's CPU time per
// request (user + system of its process, which time-slicing by other processes disturbs less than req/s).
// Two "off" servers give the noise floor of the run.
//
//   npm run bench:production -- [--rounds 5] [--duration 3] [--warmup 1] [--concurrency 8]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds, rssMiB } from './lib/proc-stats.mjs';
import { ROOT, runLoadgen, serveArgv, startServer, stopServer } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
  },
});
const rounds = Number(opts.rounds);
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
const concurrency = Number(opts.concurrency);
const MODEL = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/logreg_iris');

// A throw-away CA and server certificate (removed at the end), and a token file.
const work = mkdtempSync(join(tmpdir(), 'servekit-bench-production-'));
const f = (name) => join(work, name);
const openssl = (args) => execFileSync('/usr/bin/openssl', args, { stdio: 'ignore' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
openssl(['req', '-x509', ...EC, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=bench-ca']);
writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
openssl(['req', '-new', ...EC, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=server']);
openssl([
  ...['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', '7'],
  ...['-days', '1', '-out', f('server.crt'), '-extfile', f('server.ext')],
]);
const TOKEN = 'bench-token-0123456789abcdef';
writeFileSync(f('tokens'), `${TOKEN}\n`);

/** A loopback receiver answering 204 at once (CloudEvents and OTLP/HTTP alike); counts what it got. */
async function receiver() {
  const counter = { posts: 0 };
  const server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      counter.posts++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, counter, url: `http://127.0.0.1:${server.address().port}` };
}
const events = await receiver();
const otlp = await receiver();

const TRACING_ENV = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_SAMPLER: 'always_on' };
const FEATURES = {
  payloadLog: { flags: ['--log_url', `${events.url}/`] },
  tracing: { flags: ['--enable_tracing'], env: TRACING_ENV },
  auth: { flags: ['--auth_token_file', f('tokens')], headers: { authorization: `Bearer ${TOKEN}` } },
  tls: { flags: ['--tls_cert_file', f('server.crt'), '--tls_key_file', f('server.key')], https: true },
  admission: { flags: ['--max_concurrent_requests', '1000'] },
};
const CONFIGS = [
  ['all off (A)', []],
  ['all off (B, noise floor)', []],
  ['payload logging on (fast receiver)', ['payloadLog']],
  ['tracing on (always_on, OTLP/HTTP)', ['tracing']],
  ['auth on (static bearer token)', ['auth']],
  ['TLS on (HTTPS, keep-alive)', ['tls']],
  ['admission control on (cap 1000)', ['admission']],
  ['all five on', Object.keys(FEATURES)],
];

const body = Buffer.from(
  JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [5.1, 3.5] }] }),
).toString('base64');

const servers = [];
for (const [label, features] of CONFIGS) {
  const parts = features.map((k) => FEATURES[k]);
  const flags = parts.flatMap((p) => p.flags);
  // Tracing also turns on when OTEL_EXPORTER_OTLP_ENDPOINT is set: only the tracing servers get it.
  const env = Object.assign({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, ...parts.map((p) => p.env ?? {}));
  const server = await startServer(serveArgv(['--model_dir', MODEL, '--model_name', 'iris', ...flags]), env);
  const https = parts.some((p) => p.https);
  servers.push({
    label,
    server,
    spec: {
      kind: 'http',
      target: `${https ? 'https' : 'http'}://127.0.0.1:${server.port}`,
      path: '/v2/models/iris/infer',
      body,
      headers: Object.assign({}, ...parts.map((p) => p.headers ?? {})),
      caFile: https ? f('ca.crt') : undefined,
    },
    rows: [],
  });
}

process.stdout.write(
  `${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; ${rounds} rounds × ${servers.length} servers, ${opts.duration} s each, c=${concurrency}\n`,
);
for (let round = 0; round < rounds; round++) {
  const order = servers.map((_, i) => servers[(i + round) % servers.length]);
  for (const s of order) {
    const cpu0 = cpuSeconds(s.server.proc.pid);
    const r = await runLoadgen({ ...s.spec, concurrency, durationMs, warmupMs });
    const cpuMs = (cpuSeconds(s.server.proc.pid) - cpu0) * 1000;
    s.rows.push({ rps: r.rps, p50: r.p50, p99: r.p99, cpuMsPerReq: cpuMs / Math.max(1, r.sent), errors: r.errors });
  }
  process.stdout.write(`round ${round + 1}/${rounds} done\n`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = servers[0];
/** Median over rounds of this server's value divided by the baseline's in the same round. */
const ratio = (s, key) => median(s.rows.map((row, i) => row[key] / base.rows[i][key]));
const line = (cells) => `| ${cells.join(' | ')} |\n`;
process.stdout.write(
  line(['server', 'req/s', '÷ off (A)', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'CPU ÷ off (A)', 'RSS MiB', 'errors']),
);
process.stdout.write(line(Array(9).fill('---')));
for (const s of servers) {
  const m = (key) => median(s.rows.map((r) => r[key]));
  process.stdout.write(
    line([
      s.label,
      m('rps').toFixed(0),
      ratio(s, 'rps').toFixed(2),
      m('p50').toFixed(2),
      m('p99').toFixed(2),
      (m('cpuMsPerReq') * 1000).toFixed(0),
      ratio(s, 'cpuMsPerReq').toFixed(2),
      rssMiB(s.server.proc.pid).toFixed(0),
      String(s.rows.reduce((n, r) => n + r.errors, 0)),
    ]),
  );
}
process.stdout.write(
  `payload-log events received: ${events.counter.posts}; OTLP exports received: ${otlp.counter.posts}\n`,
);

await Promise.all(servers.map((s) => stopServer(s.server)));
events.server.close();
otlp.server.close();
rmSync(work, { recursive: true, force: true });
