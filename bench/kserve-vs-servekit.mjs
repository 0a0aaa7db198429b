// Issue 15, row 2: servekit ÷ KServe's Python sklearnserver (0.12.1), same iris model.joblib, V2 REST JSON
// `POST /v2/models/iris/infer` with one row, both servers in one run:
//   - both answer the same 15-row request with the predictions the model's own sklearn recorded (else exit 1);
//   - rounds of wrk (-t2, --latency, c=64 by default), the servers alternated (the order flips every round): req/s,
//     p50/p99, server CPU µs per request (/proc: the server process and all its descendants) and RSS after the round,
//     each round's servekit ÷ KServe req/s and KServe p99 ÷ servekit p99, and the medians;
//   - cold start: spawn → /v2/health/ready 200 (wall time and CPU until ready), spawns alternated, medians;
//   - RSS of a fresh server after 5 s of load at c=32 (all its processes), alternated.
// KServe runs as bench/kserve/setup.sh installed it (bench/out/kserve-env.json); without that file this prints how
// to set it up and exits 0. servekit is the CLI given by --servekit-bin (default this checkout's).
// Usage: node bench/kserve-vs-servekit.mjs [--rounds 5] [--duration 10] [--concurrency 64] [--cold-starts 5]
//        [--rss-runs 3] [--servekit-bin packages/cli/bin/servekit.js] [--kserve-args="--flag value …"]
//        [--env bench/out/kserve-env.json]
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './lib/median.mjs';
import { processTree, treeCpuSeconds, treeRssMiB } from './lib/proc-stats.mjs';
import { ROOT } from './lib/servers.mjs';
import { hasWrk, wrkPost } from './lib/wrk.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '64' },
    'cold-starts': { type: 'string', default: '5' },
    'rss-runs': { type: 'string', default: '3' },
    'servekit-bin': { type: 'string', default: join(ROOT, 'packages/cli/bin/servekit.js') },
    'kserve-args': { type: 'string', default: '' },
    env: { type: 'string', default: join(ROOT, 'bench/out/kserve-env.json') },
  },
});

if (!existsSync(opts.env)) {
  process.stdout.write(
    `KServe's sklearnserver is not set up (${opts.env} is missing); this benchmark is skipped. To set it up (as root):\n` +
      '  git clone --branch v0.12.1 https://github.com/kserve/kserve /tmp/kserve\n' +
      '  git clone --branch 1.10.1 https://github.com/cloudevents/sdk-python /tmp/cloudevents\n' +
      '  git clone --branch v0.3.1 https://github.com/steinnes/timing-asgi /tmp/timing-asgi\n' +
      '  git clone --branch 0.109.2 https://github.com/fastapi/fastapi /tmp/fastapi  # and starlette 0.36.3, uvicorn 0.21.1\n' +
      '  bench/kserve/setup.sh /tmp/kserve --cloudevents /tmp/cloudevents --timing-asgi /tmp/timing-asgi [--root DIR] \\\n' +
      '    --fastapi /tmp/fastapi --starlette /tmp/starlette --uvicorn /tmp/uvicorn\n' +
      'DIR: a Debian 13 root for chroot when this system lacks python3-orjson (Debian 12); see bench/kserve/setup.sh.\n',
  );
  process.exit(0);
}
if (!hasWrk()) {
  process.stdout.write('wrk is not on PATH (apt-get install wrk); this benchmark is skipped.\n');
  process.exit(0);
}

const env = JSON.parse(readFileSync(opts.env, 'utf8'));
const hostModelDir = join(env.root, env.modelDir);
const expected = JSON.parse(readFileSync(join(hostModelDir, 'expected.json'), 'utf8'));
const rounds = Number(opts.rounds);
const durationS = Number(opts.duration);
const c = Number(opts.concurrency);
const MODEL = 'iris';
const row = expected.inputs[7];
const body = JSON.stringify({ inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP64', data: row }] });
const post = wrkPost(body);
const logDir = mkdtempSync(join(tmpdir(), 'servekit-vs-kserve-'));
const live = new Set(); // servers to kill if this script ends early (an exception, Ctrl-C)
process.on('exit', () => {
  for (const proc of live) proc.kill('SIGKILL');
});
process.on('SIGINT', () => process.exit(130));

/** A free loopback TCP port (closed again before the server takes it). */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The flags both servers share (KServe's model server and `servekit serve` spell them alike). */
const modelFlags = (modelDir, http, grpc) => [
  '--model_dir',
  modelDir,
  '--model_name',
  MODEL,
  '--http_port',
  String(http),
  '--grpc_port',
  String(grpc),
];

/** argv of each server on `http`/`grpc` ports, both serving the one model file. */
const SERVERS = {
  servekit: (http, grpc) => [
    process.execPath,
    opts['servekit-bin'],
    'serve',
    ...modelFlags(hostModelDir, http, grpc),
    '--host',
    '127.0.0.1',
  ],
  kserve: (http, grpc) => [
    ...(env.root === '/' ? [] : ['chroot', env.root]),
    'env',
    `PYTHONPATH=${env.pythonPath}`,
    'python3',
    '-m',
    'sklearnserver',
    ...modelFlags(env.modelDir, http, grpc),
    ...opts['kserve-args'].split(' ').filter(Boolean),
  ],
};

/** Spawn a server and wait for /v2/health/ready 200: { proc, port, readyMs, cpuUntilReadyMs }. */
async function start(name) {
  const [http, grpc] = [await freePort(), await freePort()];
  const [cmd, ...args] = SERVERS[name](http, grpc);
  const t0 = performance.now();
  // Logs go to a file: wrk runs synchronously, so a pipe would not be drained and a logging server would block.
  const logFile = join(logDir, `${name}.log`);
  const log = openSync(logFile, 'w');
  const proc = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', log, log] });
  closeSync(log);
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`${name} exited (${proc.exitCode}) before ready:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    const status = await fetch(`http://127.0.0.1:${http}/v2/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - t0;
  return { name, proc, port: http, readyMs, cpuUntilReadyMs: treeCpuSeconds(proc.pid) * 1000 };
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
async function stop(server) {
  if (server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  const exited = new Promise((r) => server.proc.once('exit', r));
  server.proc.kill('SIGTERM');
  const timer = setTimeout(() => server.proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** POST a V2 request; the parsed answer. */
async function infer(port, inputs) {
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs }),
  });
  if (res.status !== 200) throw new Error(`infer answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** One wrk run against a server: wrk's numbers plus the server tree's CPU µs per request and RSS after the run. */
function load(server, seconds, concurrency) {
  const cpu0 = treeCpuSeconds(server.proc.pid);
  const r = post.run(`http://127.0.0.1:${server.port}/v2/models/${MODEL}/infer`, seconds, concurrency);
  const cpu = treeCpuSeconds(server.proc.pid) - cpu0;
  return {
    ...r,
    serverUsPerReq: r.answered > 0 ? (cpu / r.answered) * 1e6 : 0,
    rssMiB: treeRssMiB(server.proc.pid),
    processes: processTree(server.proc.pid).length,
  };
}

const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const out = (line) => process.stdout.write(`${line}\n`);
const NAMES = ['servekit', 'kserve'];

out(`servekit ÷ KServe sklearnserver ${env.kserveRev} (${env.kserveCommit.slice(0, 12)}), model ${hostModelDir}`);
out(
  `KServe side: ${Object.entries(env.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
out(`servekit: node ${process.version}, ${opts['servekit-bin']}; request: ${body}`);

// 1. Same answers: the 15 recorded rows through both servers.
const servers = {};
for (const name of NAMES) servers[name] = await start(name);
const check = [{ name: 'input-0', shape: [expected.inputs.length, 4], datatype: 'FP64', data: expected.inputs.flat() }];
for (const name of NAMES) {
  const answer = await infer(servers[name].port, check);
  const got = answer.outputs[0].data.map(Number);
  if (JSON.stringify(got) !== JSON.stringify(expected.predict)) {
    out(`${name} predicted ${JSON.stringify(got)}, sklearn ${expected.sklearn}: ${JSON.stringify(expected.predict)}`);
    process.exit(1);
  }
  out(`check: ${name} predicts the 15 rows as sklearn ${expected.sklearn} does: ${JSON.stringify(got)}`);
}

// 2. Throughput rounds, alternated.
for (const name of NAMES) load(servers[name], 2, c); // warm-up
const results = { servekit: [], kserve: [] };
out(`\nV2 REST JSON, 1×4 FP64, wrk -t2 -c${c} -d${durationS}s --latency, ${rounds} rounds, order alternated`);
out(
  'round  server     req/s   p50 ms   p99 ms  server µs/req  RSS MiB  errors | servekit÷KServe req/s  KServe÷servekit p99',
);
for (let i = 0; i < rounds; i++) {
  for (const name of i % 2 === 0 ? NAMES : [...NAMES].reverse()) results[name].push(load(servers[name], durationS, c));
  for (const name of NAMES) {
    const r = results[name][i];
    const tail =
      name === 'kserve'
        ? ` | ${f(results.servekit[i].rps / r.rps, 2).padStart(21)}  ${f(r.p99 / results.servekit[i].p99, 2).padStart(19)}`
        : '';
    out(
      `${String(i + 1).padStart(5)}  ${name.padEnd(8)} ${f(r.rps).padStart(7)} ${f(r.p50, 2).padStart(8)} ${f(r.p99, 2).padStart(8)} ` +
        `${f(r.serverUsPerReq).padStart(14)} ${f(r.rssMiB).padStart(8)} ${String(r.errors).padStart(7)}${tail}`,
    );
  }
}
const med = (name, key) => median(results[name].map((r) => r[key]));
const ratios = results.kserve.map((k, i) => results.servekit[i].rps / k.rps);
const p99Ratios = results.kserve.map((k, i) => k.p99 / results.servekit[i].p99);
for (const name of NAMES)
  out(
    `median  ${name.padEnd(8)} ${f(med(name, 'rps')).padStart(7)} ${f(med(name, 'p50'), 2).padStart(8)} ` +
      `${f(med(name, 'p99'), 2).padStart(8)} ${f(med(name, 'serverUsPerReq')).padStart(14)} ${f(med(name, 'rssMiB')).padStart(8)}`,
  );
out(
  `servekit ÷ KServe req/s: median ${f(median(ratios), 2)} (rounds ${ratios.map((r) => f(r, 2)).join(', ')}); ` +
    `KServe p99 ÷ servekit p99: median ${f(median(p99Ratios), 2)} (rounds ${p99Ratios.map((r) => f(r, 2)).join(', ')})`,
);
for (const name of NAMES) await stop(servers[name]);

// 3. Cold start, alternated.
const cold = { servekit: [], kserve: [] };
for (let i = 0; i < Number(opts['cold-starts']); i++) {
  for (const name of i % 2 === 0 ? NAMES : [...NAMES].reverse()) {
    const s = await start(name);
    cold[name].push({ readyMs: s.readyMs, cpuUntilReadyMs: s.cpuUntilReadyMs });
    await stop(s);
  }
}
out(`\ncold start, spawn → /v2/health/ready 200, ${opts['cold-starts']} spawns each, alternated`);
for (const name of cold.kserve.length > 0 ? NAMES : []) {
  const wall = cold[name].map((x) => x.readyMs);
  const cpu = cold[name].map((x) => x.cpuUntilReadyMs);
  out(
    `  ${name.padEnd(8)} wall median ${f(median(wall))} ms (${wall.map((x) => f(x)).join(', ')}); ` +
      `CPU until ready median ${f(median(cpu))} ms`,
  );
}
if (cold.kserve.length > 0) {
  const ratio = (key) => median(cold.servekit.map((x) => x[key])) / median(cold.kserve.map((x) => x[key]));
  out(`  servekit ÷ KServe: wall ${f(ratio('readyMs'), 2)}, CPU until ready ${f(ratio('cpuUntilReadyMs'), 2)}`);
}

// 4. RSS after 5 s of load at c=32, fresh servers, alternated.
const rss = { servekit: [], kserve: [] };
for (let i = 0; i < Number(opts['rss-runs']); i++) {
  for (const name of i % 2 === 0 ? NAMES : [...NAMES].reverse()) {
    const s = await start(name);
    const r = load(s, 5, 32);
    rss[name].push({ rssMiB: r.rssMiB, rssMB: (r.rssMiB * 1048576) / 1e6, rps: r.rps, processes: r.processes });
    await stop(s);
  }
}
out('\nRSS of a fresh server after 5 s of load at c=32 (all its processes)');
for (const name of rss.kserve.length > 0 ? NAMES : []) {
  const mb = rss[name].map((x) => x.rssMB);
  out(
    `  ${name.padEnd(8)} median ${f(median(mb))} MB (${mb.map((x) => f(x)).join(', ')} MB; ${rss[name][0].processes} process(es))`,
  );
}
if (rss.kserve.length > 0) {
  const ratio = median(rss.servekit.map((x) => x.rssMB)) / median(rss.kserve.map((x) => x.rssMB));
  out(`  servekit ÷ KServe: ${f(ratio, 2)}`);
}

const dir = join(ROOT, 'bench/out');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'kserve-vs-servekit.json');
writeFileSync(
  file,
  `${JSON.stringify({ env, opts, body, results, ratios, p99Ratios, cold, rss, at: new Date().toISOString() }, null, 1)}\n`,
);
out(`\nall numbers: ${file}; server logs: ${logDir}`);
