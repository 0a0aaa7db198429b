// Admission control: what it costs when off and when on, side by side in one run.
// Usage: node bench/admission.mjs [--rounds 5] [--duration 2] [--warmup 0.5] [--concurrency 16] [--base DIR]
// Servers (all at once, iris logreg ONNX, bench/servers/onnx-server.mjs): admission off; on with a cap far above the
// load (every request passes the fast path); on with a cap of 2 (most requests wait in the queue); with --base DIR,
// also the same server from DIR, a built checkout of the commit before admission control (the "off" reference).
// Each round drives every server in turn (rotated order) with V2 REST JSON then gRPC; medians over rounds.
// Then, in this process (no sockets, so the per-request cost is not drowned by the machine's load): the dataplane's
// inferV2 on an echo model, 4 requests in flight, µs per request for the same configurations, interleaved.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './lib/median.mjs';
import { ROOT, runLoadgen, startServer, stopServer } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '0.5' },
    concurrency: { type: 'string', default: '16' },
    base: { type: 'string' },
    'inproc-requests': { type: 'string', default: '20000' },
    only: { type: 'string' }, // e2e or inproc; both by default
  },
});
const rounds = Number(opts.rounds);
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
const concurrency = Number(opts.concurrency);
const IRIS = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/logreg_iris/model.onnx');

const configs = [
  { name: 'off (default)', flags: [] },
  { name: 'on, cap 1000 (≫ load)', flags: ['--max_concurrent_requests', '1000'] },
  { name: 'on, cap 2 (requests queue)', flags: ['--max_concurrent_requests', '2'] },
];
if (opts.base) configs.unshift({ name: 'before (base commit)', flags: [], root: opts.base });

const json = JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [5.1, 3.5] }] });
const loads = {
  'REST JSON': (s) => ({
    kind: 'http',
    target: `http://127.0.0.1:${s.port}`,
    path: '/v2/models/iris/infer',
    body: Buffer.from(json).toString('base64'),
  }),
  'gRPC raw': (s) => ({
    kind: 'grpc',
    target: `127.0.0.1:${s.grpcPort}`,
    grpcPreserialized: true,
    grpcRequest: {
      model_name: 'iris',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2] }],
      raw_input_contents: [Buffer.from(Float32Array.from([5.1, 3.5]).buffer).toString('base64')],
    },
  }),
};

if (opts.only !== 'inproc') {
  const servers = [];
  for (const c of configs) {
    const script = join(c.root ?? ROOT, 'bench/servers/onnx-server.mjs');
    servers.push(await startServer([script, IRIS, 'iris', ...c.flags]));
  }

  /** Queue depth and rejections of a server's admission control, from /metrics. */
  async function admissionStats(s) {
    const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
    const rejected = [...text.matchAll(/^servekit_admission_rejected_total\{[^}]*\} (\d+)/gm)].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
    return { rejected };
  }

  const results = new Map(); // `${config}|${load}` → [{rps, p50, p99}]
  try {
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < configs.length; k++) {
        const i = (k + r) % configs.length;
        for (const [load, spec] of Object.entries(loads)) {
          const res = await runLoadgen({ durationMs, warmupMs, concurrency, ...spec(servers[i]) });
          if (res.errors > 0 || res.requests === 0) {
            throw new Error(`${configs[i].name} ${load}: ${res.errors} errors of ${res.requests + res.errors}`);
          }
          const key = `${configs[i].name}|${load}`;
          if (!results.has(key)) results.set(key, []);
          results.get(key).push(res);
          process.stdout.write(
            `round ${r + 1} ${configs[i].name.padEnd(34)} ${load.padEnd(9)} ${Math.round(res.rps)} req/s p50 ${res.p50.toFixed(2)} p99 ${res.p99.toFixed(2)} ms\n`,
          );
        }
      }
    }
    for (const s of servers.slice(configs.length - 2)) {
      const stats = await admissionStats(s);
      if (stats.rejected > 0) throw new Error(`admission control rejected ${stats.rejected} requests`);
    }
  } finally {
    for (const s of servers) await stopServer(s);
  }

  const reference = configs[0].name;
  process.stdout.write(
    `\nMedians of ${rounds} rounds, ${opts.duration} s each, c=${concurrency}; ratio = req/s ÷ "${reference}"\n\n`,
  );
  process.stdout.write('| server | load | req/s | ratio | p50 ms | p99 ms |\n| --- | --- | --- | --- | --- | --- |\n');
  for (const load of Object.keys(loads)) {
    const ref = median(results.get(`${reference}|${load}`).map((x) => x.rps));
    for (const c of configs) {
      const xs = results.get(`${c.name}|${load}`);
      const rps = median(xs.map((x) => x.rps));
      process.stdout.write(
        `| ${c.name} | ${load} | ${Math.round(rps)} | ${(rps / ref).toFixed(2)} | ${median(xs.map((x) => x.p50)).toFixed(2)} | ${median(xs.map((x) => x.p99)).toFixed(2)} |\n`,
      );
    }
  }
}

// ---- In-process: DataPlane.inferV2 per-request cost ----

/** A started-less ModelServer of `root`'s core with one echo model, and its dataplane call. */
async function inprocServer(root, flags) {
  const core = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  class Echo extends core.Model {
    predict(payload) {
      return { model_name: this.name, outputs: payload.inputs };
    }
  }
  const { flags: parsed } = core.parseFlags(flags, core.SERVER_FLAGS, {});
  const server = new core.ModelServer({
    ...core.serverOptionsFromFlags(parsed),
    defaultMetrics: false,
    logLevel: 'silent',
  });
  server.repository.register(new Echo('echo'));
  await server.repository.load('echo');
  const input = { name: 'x', datatype: 'FP32', shape: [1, 2], data: Float32Array.from([5.1, 3.5]) };
  const signal = new AbortController().signal;
  return () =>
    server.dataplane.inferV2(
      'echo',
      undefined,
      { inputs: [input] },
      { headers: {}, protocol: 'v2', requestId: 'r', signal },
    );
}

if (opts.only !== 'e2e') {
  const perRound = Number(opts['inproc-requests']);
  const inproc = [];
  for (const c of configs) inproc.push(await inprocServer(c.root ?? ROOT, c.flags));
  /** Wall and CPU (user + system) µs per request with 4 requests in flight. */
  async function timeInproc(call) {
    let next = 0;
    const lane = async () => {
      while (next++ < perRound) await call();
    };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all([lane(), lane(), lane(), lane()]);
    const cpu = process.cpuUsage(cpu0);
    return { wall: ((performance.now() - t0) * 1e3) / perRound, cpu: (cpu.user + cpu.system) / perRound };
  }
  for (const call of inproc) await timeInproc(call); // warm-up
  const inprocResults = configs.map(() => []);
  for (let r = 0; r < rounds * 2; r++) {
    for (let k = 0; k < configs.length; k++) {
      const i = (k + r) % configs.length;
      inprocResults[i].push(await timeInproc(inproc[i]));
    }
  }
  process.stdout.write(
    `\nIn process: DataPlane.inferV2 on an echo model, 4 in flight, ${perRound} requests × ${rounds * 2} rounds; µs/request, median (min) over rounds\n\n`,
  );
  process.stdout.write(
    '| server | CPU µs/request | ratio | wall µs/request | ratio |\n| --- | --- | --- | --- | --- |\n',
  );
  const stat = (i, k) => inprocResults[i].map((x) => x[k]);
  const refCpu = median(stat(0, 'cpu'));
  const refWall = median(stat(0, 'wall'));
  configs.forEach((c, i) => {
    const cpu = stat(i, 'cpu');
    const wall = stat(i, 'wall');
    process.stdout.write(
      `| ${c.name} | ${median(cpu).toFixed(2)} (${Math.min(...cpu).toFixed(2)}) | ${(median(cpu) / refCpu).toFixed(3)} | ${median(wall).toFixed(2)} (${Math.min(...wall).toFixed(2)}) | ${(median(wall) / refWall).toFixed(3)} |\n`,
    );
  });
}
