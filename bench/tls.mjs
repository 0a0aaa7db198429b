// What TLS costs: the same model served plain, over TLS and over mutual TLS (and, with --baseline, by a build of
// the code before TLS existed), REST V2 JSON and gRPC, keep-alive connections, all cases interleaved in one run.
//
//   npm run bench:tls -- [--rounds 5] [--duration 3] [--baseline DIR]
//
// --baseline DIR: a built checkout of an older commit (DIR/packages/cli/dist/bin.js), e.g. the commit before TLS:
//   git archive COMMIT | tar -x -C DIR; link node_modules (see bench/RESULTS.md); (cd DIR && npx tsc -b)
// The CA and certificates are made at run time in a temp dir with openssl and removed afterwards.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { writeResults } from './lib/results.mjs';
import { ROOT, runLoadgen, serveArgv, startServer, stopServer } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '0.5' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '1,16' },
    baseline: { type: 'string' },
  },
});
const rounds = Number(opts.rounds);
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
const concurrencies = opts.concurrency.split(',').map(Number);
const MODEL = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/logreg_iris');

// A throw-away CA, a server certificate for 127.0.0.1 and a client certificate.
const work = mkdtempSync(join(tmpdir(), 'servekit-bench-tls-'));
const openssl = (args) => execFileSync('/usr/bin/openssl', args, { stdio: 'ignore' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const f = (name) => join(work, name);
openssl(['req', '-x509', ...EC, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=bench-ca']);
for (const [name, ext] of [
  ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'],
  ['client', 'extendedKeyUsage=clientAuth\n'],
]) {
  writeFileSync(f(`${name}.ext`), ext);
  openssl(['req', '-new', ...EC, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`]);
  openssl([
    ...['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', '7'],
    ...['-days', '1', '-out', f(`${name}.crt`), '-extfile', f(`${name}.ext`)],
  ]);
}
const TLS = ['--tls_cert_file', f('server.crt'), '--tls_key_file', f('server.key')];

const v2 = Buffer.from(
  JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [5.1, 3.5] }] }),
).toString('base64');
const x = Buffer.alloc(8);
x.writeFloatLE(5.1, 0);
x.writeFloatLE(3.5, 4);
const grpcRequest = {
  model_name: 'iris',
  inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2] }],
  raw_input_contents: [x.toString('base64')],
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const serveIris = (flags, bin) => {
  const argv = serveArgv(['--model_dir', MODEL, '--model_name', 'iris', '--log_level', 'info', ...flags]);
  if (bin) argv[0] = bin;
  return startServer(argv);
};

const servers = [];
const cases = [];
try {
  const variants = [];
  if (opts.baseline)
    variants.push(['before (no TLS code)', [], false, join(opts.baseline, 'packages/cli/dist/bin.js')]);
  variants.push(
    ['TLS off', [], false],
    ['TLS', TLS, true],
    ['mutual TLS', [...TLS, '--tls_client_ca_file', f('ca.crt')], true],
  );
  for (const [label, flags, tls, bin] of variants) {
    // mutual TLS: the load generator presents the client certificate (node:https / grpc-js read it from the spec).
    const s = await serveIris(flags, bin);
    servers.push(s);
    const scheme = tls ? 'https' : 'http';
    const mtls = flags.includes('--tls_client_ca_file');
    const tlsSpec = tls
      ? { caFile: f('ca.crt'), ...(mtls ? { certFile: f('client.crt'), keyFile: f('client.key') } : {}) }
      : {};
    cases.push({
      label: `${label}, REST V2 JSON`,
      pid: s.proc.pid,
      plain: 'TLS off, REST V2 JSON',
      spec: {
        kind: 'http',
        target: `${scheme}://127.0.0.1:${s.port}`,
        path: '/v2/models/iris/infer',
        body: v2,
        ...tlsSpec,
      },
    });
    cases.push({
      label: `${label}, gRPC V2 raw`,
      pid: s.proc.pid,
      plain: 'TLS off, gRPC V2 raw',
      spec: { kind: 'grpc', target: `127.0.0.1:${s.grpcPort}`, grpcRequest, grpcPreserialized: true, ...tlsSpec },
    });
  }
  // Rounds interleave the cases (and alternate their order), so a load change on the machine hits them alike.
  const runs = new Map(cases.map((c) => [c.label, Object.fromEntries(concurrencies.map((n) => [n, []]))]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? cases : [...cases].reverse();
    for (const c of order) {
      for (const concurrency of concurrencies) {
        const cpu0 = cpuSeconds(c.pid);
        const r = await runLoadgen({ ...c.spec, concurrency, durationMs, warmupMs });
        // Server CPU per request: robust to a busy machine where req/s are not (it counts only the server's work).
        r.serverCpuMs = ((cpuSeconds(c.pid) - cpu0) * 1000) / r.sent;
        if (r.errors > 0 || r.requests === 0) throw new Error(`${c.label} c=${concurrency}: ${r.errors} errors`);
        runs.get(c.label)[concurrency].push(r);
      }
    }
    process.stdout.write(`round ${round + 1}/${rounds} done (load average ${loadavg()[0].toFixed(1)})\n`);
  }
  const rows = cases.map(({ label, plain }) => {
    const row = { label, plain };
    for (const n of concurrencies) {
      const rs = runs.get(label)[n];
      row[`c${n}`] = {
        rps: median(rs.map((r) => r.rps)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        serverCpuMs: median(rs.map((r) => r.serverCpuMs)),
      };
    }
    return row;
  });
  const plainOf = (label) => rows.find((r) => r.label === label);
  process.stdout.write('\n');
  for (const row of rows) {
    const base = plainOf(row.plain);
    const cells = concurrencies.map((n) => {
      const c = row[`c${n}`];
      const b = base[`c${n}`];
      return `c=${n} ${Math.round(c.rps)} req/s (${(c.rps / b.rps).toFixed(2)}×) p50 ${c.p50.toFixed(2)} ms, server CPU ${c.serverCpuMs.toFixed(3)} ms/req (${(c.serverCpuMs / b.serverCpuMs).toFixed(2)}×)`;
    });
    process.stdout.write(`${row.label.padEnd(36)} ${cells.join(' | ')}\n`);
  }
  const { machine } = writeResults('tls', { durationMs, warmupMs, rounds, rows });
  process.stdout.write(`\nmachine: ${JSON.stringify(machine)}\nwritten: bench/out/tls.json\n`);
} finally {
  for (const s of servers.reverse()) await stopServer(s);
  rmSync(work, { recursive: true, force: true });
}
