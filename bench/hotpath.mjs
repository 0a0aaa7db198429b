// Issue 15's hot-path rows, each measured side by side in one run on a shared, noisy machine:
//   overhead  V2 REST JSON on tiny iris models (rf_iris, logreg_iris) at c=64, `servekit serve` alternated with a bare
//             fastify route answering the same bytes (ratio = servekit ÷ bare, per round)
//   rss       RSS of `servekit serve` on rf_iris after 5 s of load at c=32 (the process: all its threads)
//   cold      spawn of `servekit serve` on rf_iris → /v2/health/ready 200, median of 5
// Load: wrk (2 threads, keep-alive) when it is on PATH, else bench/lib/loadgen.mjs in its own process.
// Usage: node bench/hotpath.mjs [--only overhead,rss,cold] [--rounds 3] [--duration 3] [--concurrency 64]
//        [--serve-args="--flag value …"] [--compare-args="…"] (A/B: a second servekit alternated in)
//        [--baseline-root DIR] (A/B: the same rows for the built checkout in DIR, e.g. the commit before a change)
//        [--serve-env K=V,…] [--compare-env K=V,…] (environment of servekit / of servekit-B, e.g. MALLOC_ARENA_MAX=2)
//        [--memory-limit MiB] (every servekit starts in a memory cgroup of that limit, as in a pod: V8 sizes its heap from it)
// Servers start through packages/cli/bin/servekit.js, the bin users run (the CLI's bundle when it is built).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { memoryCgroup } from './lib/memory-cgroup.mjs';
import { cpuSeconds, rssMiB } from './lib/proc-stats.mjs';
import { ROOT, runLoadgen, serveArgv, startServer, stopServer } from './lib/servers.mjs';
import { hasWrk, wrkPost } from './lib/wrk.mjs';

const { values: opts } = parseArgs({
  options: {
    only: { type: 'string', default: 'overhead,rss,cold' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    models: { type: 'string', default: 'rf_iris,logreg_iris' },
    'serve-args': { type: 'string', default: '' },
    'compare-args': { type: 'string' },
    'serve-env': { type: 'string', default: '' },
    'compare-env': { type: 'string' },
    loadgen: { type: 'string' },
    'baseline-root': { type: 'string' },
    'memory-limit': { type: 'string' },
  },
});
const only = new Set(opts.only.split(','));
const rounds = Number(opts.rounds);
const durationS = Number(opts.duration);
const FIX = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs');
const MODELS = {
  rf_iris: { input: 'float_input', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] },
  logreg_iris: { input: 'X', shape: [1, 2], data: [5.1, 3.5] },
};
const splitArgs = (s) => (s ?? '').split(' ').filter((a) => a !== '');
const splitEnv = (s) =>
  Object.fromEntries(
    (s ?? '')
      .split(',')
      .filter((e) => e !== '')
      .map((e) => e.split(/=(.*)/s).slice(0, 2)),
  );
const BIN = 'packages/cli/bin/servekit.js';
const variants = [
  { label: 'servekit', args: splitArgs(opts['serve-args']), env: splitEnv(opts['serve-env']), bin: BIN },
];
if (opts['compare-args'] !== undefined || opts['compare-env'] !== undefined)
  variants.push({
    label: 'servekit-B',
    args: splitArgs(opts['compare-args'] ?? opts['serve-args']),
    env: splitEnv(opts['compare-env']),
    bin: BIN,
  });
if (opts['baseline-root'] !== undefined) {
  const bin = join(opts['baseline-root'], BIN);
  variants.unshift({ label: 'baseline', args: splitArgs(opts['serve-args']), env: splitEnv(opts['serve-env']), bin });
}

const cgroup = opts['memory-limit'] === undefined ? undefined : memoryCgroup(Number(opts['memory-limit']));
process.on('exit', () => {
  try {
    cgroup?.remove();
  } catch (err) {
    process.stderr.write(`memory cgroup left behind: ${err.message}\n`);
  }
});

const useWrk = opts.loadgen !== 'node' && hasWrk();
const loadgenName = useWrk ? 'wrk -t2' : 'bench/lib/loadgen.mjs';

/** Drive `url` with POST `body` at `concurrency` for `seconds`: { rps, errors }. */
async function load(url, body, concurrency, seconds) {
  if (!useWrk) {
    const u = new URL(url);
    const r = await runLoadgen({
      kind: 'http',
      target: u.origin,
      path: u.pathname,
      body: Buffer.from(body).toString('base64'),
      concurrency,
      durationMs: seconds * 1000,
      warmupMs: 500,
    });
    return { rps: r.rps, errors: r.errors };
  }
  const r = wrkPost(body).run(url, seconds, concurrency);
  return { rps: r.rps, errors: r.errors };
}

/** `servekit serve` of one fixture model, from this checkout or from `bin` (a baseline's CLI). */
function serveModel(model, args, bin, env = {}) {
  const argv = serveArgv(['--model_dir', join(FIX, model), '--model_name', model, '--log_level', 'info', ...args]);
  if (bin) argv[0] = bin;
  return startServer(argv, env, cgroup?.wrap);
}
const inferUrl = (s, model) => `http://127.0.0.1:${s.port}/v2/models/${model}/infer`;
const bodyOf = (model) => {
  const m = MODELS[model];
  return JSON.stringify({ inputs: [{ name: m.input, datatype: 'FP32', shape: m.shape, data: m.data }] });
};
const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');

/**
 * `load` of one server, with the server's CPU time per answered request: on a machine shared with other work the
 * req/s of each row depend on what else ran meanwhile, its CPU cost per request much less.
 */
async function measured(server, url, body, concurrency) {
  const cpu0 = cpuSeconds(server.proc.pid);
  const t0 = performance.now();
  const x = await load(url, body, concurrency, durationS);
  const requests = x.rps * ((performance.now() - t0) / 1000);
  return { ...x, cpuUs: ((cpuSeconds(server.proc.pid) - cpu0) * 1e6) / requests };
}

if (only.has('overhead')) {
  const c = Number(opts.concurrency);
  for (const model of opts.models.split(',')) {
    const body = bodyOf(model);
    const servers = [];
    for (const v of variants) servers.push({ ...v, server: await serveModel(model, v.args, v.bin, v.env) });
    const answer = await (await fetch(inferUrl(servers[0].server, model), { method: 'POST', body })).text();
    const bare = await startServer(['bench/servers/bare-fastify.mjs', Buffer.from(answer).toString('base64')]);
    await load(inferUrl(bare, model), body, c, 1); // warm-up of every server
    for (const s of servers) await load(inferUrl(s.server, model), body, c, 1);
    process.stdout.write(`overhead ${model}, V2 REST JSON, c=${c}, ${durationS} s per row, ${loadgenName}\n`);
    for (let r = 1; r <= rounds; r++) {
      const b = await measured(bare, inferUrl(bare, model), body, c);
      const parts = [`round ${r}: bare fastify ${fmt(b.rps)} (${fmt(b.cpuUs)} µs CPU/req)`];
      for (const s of servers) {
        const x = await measured(s.server, inferUrl(s.server, model), body, c);
        parts.push(
          `${s.label} ${fmt(x.rps)} (÷ bare ${fmt(x.rps / b.rps, 2)}; ${fmt(x.cpuUs)} µs CPU/req, bare's ÷ this ${fmt(b.cpuUs / x.cpuUs, 2)}${x.errors ? `; errors ${x.errors}` : ''})`,
        );
      }
      process.stdout.write(`  ${parts.join('  ')}\n`);
    }
    for (const s of servers) await stopServer(s.server);
    await stopServer(bare);
  }
}

if (only.has('rss')) {
  process.stdout.write(`rss rf_iris after 5 s of load at c=32 (${loadgenName})\n`);
  for (let r = 1; r <= Math.min(rounds, 2); r++) {
    for (const v of variants) {
      const server = await serveModel('rf_iris', v.args, v.bin, v.env);
      const idle = rssMiB(server.proc.pid);
      const x = await load(inferUrl(server, 'rf_iris'), bodyOf('rf_iris'), 32, 5);
      const loaded = rssMiB(server.proc.pid);
      process.stdout.write(
        `  ${v.label}: idle ${fmt(idle)} MiB, after load ${fmt(loaded)} MiB (${fmt(x.rps)} req/s${x.errors ? `, errors ${x.errors}` : ''})\n`,
      );
      await stopServer(server);
    }
  }
}

if (only.has('cold')) {
  process.stdout.write('cold start: spawn of servekit serve rf_iris → /v2/health/ready 200, 5 spawns\n');
  const times = new Map(variants.map((v) => [v.label, []]));
  // CPU time of the server until ready: on a machine shared with other work, wall time mostly measures the queue.
  const cpu = new Map(variants.map((v) => [v.label, []]));
  for (let i = 0; i < 5; i++) {
    for (const v of variants) {
      const t0 = performance.now();
      const server = await serveModel('rf_iris', v.args, v.bin, v.env);
      while ((await fetch(`http://127.0.0.1:${server.port}/v2/health/ready`)).status !== 200)
        await new Promise((r) => setTimeout(r, 2));
      times.get(v.label).push(performance.now() - t0);
      cpu.get(v.label).push(cpuSeconds(server.proc.pid) * 1000);
      await stopServer(server);
    }
  }
  for (const [label, t] of times) {
    t.sort((a, b) => a - b);
    const c = cpu.get(label).sort((a, b) => a - b);
    process.stdout.write(
      `  ${label}: median ${fmt(t[2])} ms (min ${fmt(t[0])}, max ${fmt(t[4])}); CPU until ready median ${fmt(c[2])} ms (min ${fmt(c[0])})\n`,
    );
  }
}
