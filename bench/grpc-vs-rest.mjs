// Issue 15, row 3: gRPC `ModelInfer` with `raw_input_contents` ÷ V2 REST JSON of the same 1×784 FP32 request
// (mlp_784), both at the same concurrency, both driven by a native load generator, alternated in one run:
//   REST  wrk -t2 -cC (C connections, one request in flight each), a prebuilt JSON body
//   gRPC  h2load -t2 -cN -m(C/N) (-t1 for N = 1) (N HTTP/2 connections, C/N streams each), a prebuilt gRPC message
//         (5-byte length prefix + protobuf) POSTed with `content-type: application/grpc`, `te: trailers`
// h2load counts HTTP statuses only and a gRPC error is an HTTP 200 with grpc-status in its trailers, so every gRPC
// row is checked against the server's own count: Triton statistics' success/fail deltas of the model must equal
// h2load's answered requests and 0 (a failed call is an error of the row). Before the rounds a real grpc-js client
// checks once that the answer is grpc-status 0 and equals the REST answer.
// Each row: req/s, p50/p99 (wrk --latency; h2load --log-file), server CPU µs per request (/proc, all its threads)
// and the load generator's CPU µs per request (this process's reaped children, /proc/self/stat).
// Usage: node bench/grpc-vs-rest.mjs [--rounds 3] [--duration 5] [--concurrency 64] [--h2-connections 4]
//        [--serve-args="--flag value …"] [--cpu-prof DIR] (the server writes a V8 CPU profile there on exit)
//        [--baseline-root DIR] (A/B: the same rows for the built checkout in DIR, e.g. the commit before a change,
//        alternated with this checkout's in every round) [--rows rest,grpc] (which rows each round runs)
//        [--compare-args="…"] [--compare-node-options="…"] (A/B: a second server of this checkout with other serve
//        flags and/or node options, e.g. --max-semi-space-size=64, alternated in every round)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './lib/median.mjs';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { ROOT, serveArgv, startServer, stopServer } from './lib/servers.mjs';
import { childrenCpuSeconds, wrkPost } from './lib/wrk.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
    'h2-connections': { type: 'string', default: '4' },
    'serve-args': { type: 'string', default: '' },
    'cpu-prof': { type: 'string' },
    'baseline-root': { type: 'string' },
    'compare-args': { type: 'string' },
    'compare-node-options': { type: 'string' },
    rows: { type: 'string', default: 'rest,grpc' },
  },
});
const rounds = Number(opts.rounds);
const durationS = Number(opts.duration);
const c = Number(opts.concurrency);
const h2Conns = Math.min(Number(opts['h2-connections']), c);
const h2Threads = Math.min(2, h2Conns); // h2load wants at least one connection per thread
const MODEL = 'mlp_784';
const MODEL_DIR = join(ROOT, '../shared/fixtures/onnx/bench/mlp_784');

for (const tool of ['wrk', 'h2load']) {
  if (spawnSync(tool, ['--version']).error !== undefined) {
    process.stderr.write(`${tool} is not on PATH (wrk: apt-get install wrk; h2load: apt-get install nghttp2-client)\n`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'servekit-grpc-vs-rest-'));
const values = Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255);
const raw = Buffer.from(Float32Array.from(values).buffer);
const jsonBody = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: values }] });
const grpcRequest = { model_name: MODEL, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784] }] };

// The gRPC request as it travels in a DATA frame: 1 byte "not compressed", 4 bytes big-endian length, the message.
const grpcModule = await import(join(ROOT, 'packages/core/dist/protocols/grpc-proto.js'));
const Client = grpcModule.inferenceService();
const message = Client.service.ModelInfer.requestSerialize({ ...grpcRequest, raw_input_contents: [raw] });
const prefix = Buffer.alloc(5);
prefix.writeUInt32BE(message.byteLength, 1);
const grpcBodyFile = join(work, 'model-infer.grpc');
writeFileSync(grpcBodyFile, Buffer.concat([prefix, message]));

const restPost = wrkPost(jsonBody);

/** V2 REST JSON with wrk: { rps, p50, p99, errors, answered }. */
function restLoad(port, seconds) {
  return restPost.run(`http://127.0.0.1:${port}/v2/models/${MODEL}/infer`, seconds, c);
}

/** Success and failure counts of the model in the server's Triton statistics. */
async function inferCounts(port) {
  const stats = await (await fetch(`http://127.0.0.1:${port}/v2/models/${MODEL}/stats`)).json();
  const s = stats.model_stats[0].inference_stats;
  return { success: Number(s.success.count), fail: Number(s.fail.count) };
}

/** gRPC ModelInfer with h2load: { rps, p50, p99, errors, answered }, errors counted by the server (see the header). */
async function grpcLoad(server, seconds) {
  const before = await inferCounts(server.port);
  const log = join(work, 'h2load.log');
  const url = `http://127.0.0.1:${server.grpcPort}/inference.GRPCInferenceService/ModelInfer`;
  const args = [`-t${h2Threads}`, `-c${h2Conns}`, `-m${Math.ceil(c / h2Conns)}`, `-D${seconds}`, `--log-file=${log}`];
  args.push('-d', grpcBodyFile, '-H', 'content-type: application/grpc', '-H', 'te: trailers', url);
  const out = execFileSync('h2load', args, { encoding: 'utf8' });
  const after = await inferCounts(server.port);
  const answered = Number(/(\d+) done/.exec(out)?.[1] ?? 0);
  const failedHttp = Number(/(\d+) failed, (\d+) errored, (\d+) timeout/.exec(out)?.[1] ?? 0);
  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1] ?? Number.NaN);
  // Every answered call must be a model success: a gRPC error (HTTP 200) is not one. Calls still in flight when
  // h2load stops may succeed uncounted by h2load, so up to c errors could hide among them; a broken setup fails all.
  const grpcErrors = Math.max(after.fail - before.fail, answered - (after.success - before.success));
  const lat = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(l.split('\t')[2]) / 1000)
    .sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
  return { rps, p50: pct(50), p99: pct(99), errors: failedHttp + grpcErrors, answered };
}

/** One row: the load, with the server's and the load generator's CPU µs per answered request. */
async function measured(server, run) {
  const cpu0 = cpuSeconds(server.proc.pid);
  const gen0 = childrenCpuSeconds();
  const x = await run();
  const n = Math.max(1, x.answered);
  return {
    ...x,
    cpuUs: ((cpuSeconds(server.proc.pid) - cpu0) * 1e6) / n,
    genUs: ((childrenCpuSeconds() - gen0) * 1e6) / n,
  };
}

/** One check with a real grpc-js client: grpc-status 0 and the same outputs as the REST answer. */
async function checkAnswers(server) {
  const requireCjs = createRequire(join(ROOT, 'packages/core/package.json'));
  const grpc = requireCjs('@grpc/grpc-js');
  const client = new Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const res = await new Promise((resolve, reject) =>
    client.ModelInfer({ ...grpcRequest, raw_input_contents: [raw] }, (err, r) => (err ? reject(err) : resolve(r))),
  );
  client.close();
  const rest = await (
    await fetch(`http://127.0.0.1:${server.port}/v2/models/${MODEL}/infer`, { method: 'POST', body: jsonBody })
  ).json();
  const b = res.raw_output_contents[0];
  const grpcOut = Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
  const restOut = rest.outputs[0].data;
  if (grpcOut.length !== restOut.length || grpcOut.some((v, i) => Math.abs(v - restOut[i]) > 1e-6)) {
    throw new Error(`gRPC and REST answers differ: ${grpcOut.slice(0, 4)} vs ${restOut.slice(0, 4)}`);
  }
  return grpcOut.length;
}

const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const row = (label, x) =>
  `${label.padEnd(30)} ${fmt(x.rps).padStart(7)} req/s  p50 ${fmt(x.p50, 2).padStart(7)} ms  p99 ${fmt(x.p99, 2).padStart(7)} ms  server ${fmt(x.cpuUs).padStart(5)} µs CPU/req  loadgen ${fmt(x.genUs).padStart(4)} µs CPU/req${x.errors ? `  ERRORS ${x.errors}` : ''}`;

const splitArgs = (text) => (text ?? '').split(' ').filter((a) => a !== '');
/** `servekit serve` of mlp_784 from this checkout, or from `bin` (a baseline's CLI), with extra flags and node options. */
function serveModel({ bin, args = splitArgs(opts['serve-args']), nodeOptions = [] }) {
  const argv = serveArgv(['--model_dir', MODEL_DIR, '--model_name', MODEL, '--log_level', 'info', ...args]);
  if (bin) argv[0] = bin;
  argv.unshift(...nodeOptions);
  if (opts['cpu-prof']) argv.unshift('--cpu-prof', `--cpu-prof-dir=${opts['cpu-prof']}`);
  return startServer(argv);
}
const rowKinds = opts.rows.split(',');
const variants = [{ label: '' }];
if (opts['baseline-root'] !== undefined) {
  variants.unshift({ label: 'baseline ', bin: join(opts['baseline-root'], 'packages/cli/dist/bin.js') });
}
if (opts['compare-args'] !== undefined || opts['compare-node-options'] !== undefined) {
  const args = [...splitArgs(opts['serve-args']), ...splitArgs(opts['compare-args'])];
  variants.push({ label: 'B ', args, nodeOptions: splitArgs(opts['compare-node-options']) });
}
for (const v of variants) v.server = await serveModel(v);
try {
  let outputs = 0;
  for (const v of variants) outputs = await checkAnswers(v.server);
  process.stdout.write(
    `mlp_784 1×784 FP32, c=${c}, ${durationS} s per row; REST: wrk -t2 -c${c}; gRPC: h2load -t${h2Threads} -c${h2Conns} -m${Math.ceil(c / h2Conns)}` +
      ` (grpc-status 0 and the REST answer checked once with grpc-js: ${outputs} outputs equal)\n`,
  );
  for (const v of variants) {
    restLoad(v.server.port, 1); // warm-up of both paths
    await grpcLoad(v.server, 1);
  }
  const runs = variants.flatMap((v) => rowKinds.map((kind) => ({ v, kind })));
  const ratios = [];
  const cpuRatios = [];
  for (let r = 1; r <= rounds; r++) {
    // Rotate which row goes first, so none always follows another's after-effects.
    const order = runs.map((_, i) => runs[(i + r - 1) % runs.length]);
    const got = new Map();
    for (const { v, kind } of order) {
      const run =
        kind === 'rest' ? async () => restLoad(v.server.port, durationS) : () => grpcLoad(v.server, durationS);
      got.set(`${v.label}${kind}`, await measured(v.server, run));
    }
    process.stdout.write(`round ${r}\n`);
    for (const { v, kind } of runs) {
      const name = kind === 'rest' ? 'V2 REST JSON (wrk)' : 'gRPC raw (h2load)';
      process.stdout.write(`  ${row(`${v.label}${name}`, got.get(`${v.label}${kind}`))}\n`);
    }
    const rest = got.get('rest');
    const grpc = got.get('grpc');
    if (rest && grpc) {
      ratios.push(grpc.rps / rest.rps);
      cpuRatios.push(rest.cpuUs / grpc.cpuUs);
      process.stdout.write(
        `  gRPC ÷ REST: req/s ${fmt(ratios.at(-1), 2)}×, server CPU per request (REST's ÷ gRPC's) ${fmt(cpuRatios.at(-1), 2)}×\n`,
      );
    }
    for (const [other, name] of [
      ['baseline', 'this ÷ baseline'],
      ['B', 'B ÷ this'],
    ]) {
      for (const kind of rowKinds) {
        const o = got.get(`${other} ${kind}`);
        const mine = got.get(kind);
        if (!o || !mine) continue;
        const [num, den] = other === 'B' ? [o, mine] : [mine, o];
        process.stdout.write(
          `  ${kind === 'rest' ? 'REST' : 'gRPC'}, ${name}: req/s ${fmt(num.rps / den.rps, 2)}×, server CPU per request ${fmt(num.cpuUs / den.cpuUs, 2)}×\n`,
        );
      }
    }
  }
  if (ratios.length > 0) {
    process.stdout.write(
      `median gRPC ÷ REST: req/s ${fmt(median(ratios), 2)}×, server CPU per request ${fmt(median(cpuRatios), 2)}×\n`,
    );
  }
} finally {
  for (const v of variants) await stopServer(v.server);
}
