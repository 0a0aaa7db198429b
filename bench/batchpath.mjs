// Issue 15, batching row: servekit with dynamic batching vs raw onnxruntime-node at the observed mean batch size, on
// the generated MLP 256→2048→2048→10, c=64, `--max_batch_size 32`. Server variants run interleaved, round after round
// (each round starts one variant later, so none always runs first), so the noise of the shared machine falls on all of
// them alike; the summary gives each variant's median over the rounds and the median of each round's ratios.
//   node bench/batchpath.mjs [--rounds 2] [--duration 5] [--before <checkout with built dist>] [--variants a,b,…]
// Variants: on (batching on), on-intra1 / on-intra2 (intraOpNumThreads 1 / 2), on-inflight2 (--max_inflight_batches 2),
// on-spin (onnxruntime's pool threads spin between runs), off (batching off), before-on / before-off (the same server
// script of the --before checkout, e.g. a copy of the previous commit), copy-on / copy-off (the --copy checkout, e.g. a
// built copy of this commit outside the worktree, to tell code from checkout location); suffixes combine
// (before-on-intra1, off-intra1).
// Load: wrk (native, 2 threads, keep-alive) when it is on PATH, else bench/lib/loadgen.mjs (`--loadgen node` forces it;
// the Node load generator costs ~100 µs CPU per request on the same 2 cores, wrk ~15–25).
// Per variant: req/s, mean batch, server CPU per request (µs; split into the event loop, the busiest other thread, with
// batching on onnxruntime's session thread, and the rest), load-generator CPU per request, the machine's idle share
// over the measured window (/proc/stat), the 1-minute load average.
// --gc: servers run under `--trace-gc-nvp`; each variant also reports, over its measured window, the JS heap bytes
// allocated and promoted (survived two young collections) per request, the main thread's GC pause per request, and
// the full (mark-compact) collections.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { GC_TRACE_FLAGS, gcDelta, gcSettle, gcTotals } from './lib/gc-trace.mjs';
import { generateBigMlp } from './lib/gen-models.mjs';
import { median } from './lib/median.mjs';
import { cpuSeconds, machineCpuShares, machineCpuTicks, threadCpuSeconds } from './lib/proc-stats.mjs';
import { batchStats, ROOT, runLoadgen, startServer, stopServer } from './lib/servers.mjs';
import { childrenCpuSeconds, hasWrk, wrkPost } from './lib/wrk.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '64' },
    before: { type: 'string' },
    copy: { type: 'string' },
    variants: { type: 'string', default: 'before-on,on,on-intra1,off' },
    flags: { type: 'string', default: '--max_batch_size 32 --max_latency_ms 2 --max_inflight_batches 1' },
    loadgen: { type: 'string' },
    gc: { type: 'boolean', default: false },
  },
});
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
const concurrency = Number(opts.concurrency);
const batchFlags = opts.flags.split(' ').filter(Boolean);
const dir = existsSync(join(ROOT, 'bench/out/mlp_big/model.onnx')) ? join(ROOT, 'bench/out/mlp_big') : generateBigMlp();
const modelPath = join(dir, 'model.onnx');

const values = Array.from({ length: 256 }, (_, i) => ((i * 13) % 17) / 17);
const raw = Buffer.from(Float32Array.from(values).buffer);
const head = Buffer.from(
  JSON.stringify({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 256], parameters: { binary_data_size: raw.byteLength } }],
  }),
);
const headers = {
  'content-type': 'application/octet-stream',
  'inference-header-content-length': String(head.byteLength),
};
const body = { kind: 'http', path: '/v2/models/m/infer', body: Buffer.concat([head, raw]).toString('base64'), headers };
const wrk = opts.loadgen !== 'node' && hasWrk() ? wrkPost(Buffer.concat([head, raw]), headers) : undefined;
process.stdout.write(`load generator: ${wrk ? 'wrk -t2' : 'bench/lib/loadgen.mjs'}, c=${concurrency}\n`);

/** `warmupMs` of load not measured (wrk only: the Node load generator warms up within its run). */
function warmUp(port) {
  if (wrk && warmupMs > 0)
    wrk.run(`http://127.0.0.1:${port}${body.path}`, Math.max(1, Math.round(warmupMs / 1000)), concurrency);
}

/** `durationMs` of load (after its own warm-up with the Node load generator): { rps, p50, p99, errors, clientUsPerReq }. */
async function drive(port) {
  if (wrk) return wrk.run(`http://127.0.0.1:${port}${body.path}`, durationMs / 1000, concurrency);
  const client0 = childrenCpuSeconds();
  const r = await runLoadgen({ durationMs, warmupMs, ...body, target: `http://127.0.0.1:${port}`, concurrency });
  // The load generator's CPU over its whole life (warm-up included) per request it completed in the measured window.
  const measured = r.rps * (durationMs / 1000);
  const clientSeconds = childrenCpuSeconds() - client0;
  const clientUsPerReq = measured > 0 ? (clientSeconds / (measured * ((durationMs + warmupMs) / durationMs))) * 1e6 : 0;
  return { ...r, clientUsPerReq };
}

/** How each variant starts its server: script root, flags, env. */
function variant(name) {
  const root = name.startsWith('before-') ? opts.before : name.startsWith('copy-') ? opts.copy : ROOT;
  if (!root) throw new Error(`variant ${name} needs --before or --copy <checkout>`);
  const on = !/(^|-)off(-|$)/.test(name);
  const intra = /intra(\d+)/.exec(name)?.[1];
  const inflight = /inflight(\d+)/.exec(name)?.[1];
  return {
    script: join(root, 'bench/servers/onnx-server.mjs'),
    flags: on ? [...batchFlags, ...(inflight ? ['--max_inflight_batches', inflight] : [])] : [],
    env: { ...(intra ? { BENCH_INTRA_OP: intra } : {}), ...(name.includes('-spin') ? { BENCH_SPIN: '1' } : {}) },
  };
}

/** One load run of a variant: req/s, p50/p99, mean batch, server CPU (and its GC with --gc). */
async function measure(name) {
  const v = variant(name);
  const server = await startServer([...(opts.gc ? GC_TRACE_FLAGS : []), v.script, modelPath, 'm', ...v.flags], v.env);
  const gc = opts.gc ? gcTotals(server.proc) : undefined;
  try {
    warmUp(server.port);
    const before = await batchStats(server.port);
    const load = loadavg()[0];
    const cpu0 = cpuSeconds(server.proc.pid);
    const threads0 = threadCpuSeconds(server.proc.pid);
    const machine0 = machineCpuTicks();
    const t0 = performance.now();
    const gc0 = gc && { ...gc };
    const r = await drive(server.port);
    const cpu = (cpuSeconds(server.proc.pid) - cpu0) / ((performance.now() - t0) / 1000);
    const machine = machineCpuShares(machine0, machineCpuTicks());
    const threads = threadShares(server.proc.pid, threads0, r.rps * (durationMs / 1000));
    if (gc) await gcSettle();
    const gcWindow = gc && gcDelta(gc0, gc);
    const requests = r.rps * (durationMs / 1000);
    const after = await batchStats(server.port);
    const batches = after.count - before.count;
    return {
      rps: r.rps,
      p50: r.p50,
      p99: r.p99,
      meanBatch: batches > 0 ? (after.sum - before.sum) / batches : 1,
      cpu,
      serverUsPerReq: (cpu / r.rps) * 1e6,
      clientUsPerReq: r.clientUsPerReq,
      threads,
      machineIdle: machine.idle,
      load,
      errors: r.errors,
      ...(gcWindow && {
        gc: {
          allocatedPerReq: gcWindow.allocated / requests,
          promotedPerReq: gcWindow.promoted / requests,
          pauseUsPerReq: (gcWindow.pauseMs * 1000) / requests,
          fullGcs: gcWindow.fullGcs,
        },
      }),
    };
  } finally {
    await stopServer(server);
  }
}

/**
 * CPU µs per request of the server's threads over the measured window: the event loop (the main thread, tid = pid),
 * the busiest other thread (with batching on: onnxruntime's session thread) and the rest (V8's and libuv's helpers).
 */
function threadShares(pid, before, requests) {
  const used = [...threadCpuSeconds(pid)].map(([tid, s]) => [tid, ((s - (before.get(tid) ?? 0)) * 1e6) / requests]);
  const others = used.filter(([tid]) => tid !== pid).sort((a, b) => b[1] - a[1]);
  const sum = (rows) => rows.reduce((a, [, us]) => a + us, 0);
  return { loop: sum(used.filter(([tid]) => tid === pid)), busiest: others[0]?.[1] ?? 0, rest: sum(others.slice(1)) };
}

/** `loop A, busiest B, rest C` (µs per request). */
function threadText(t) {
  return `loop ${t.loop.toFixed(0)}, busiest thread ${t.busiest.toFixed(0)}, rest ${t.rest.toFixed(0)}`;
}

/** ` gc: …` for a row measured with --gc, else ''. */
function gcText(gc) {
  if (!gc) return '';
  return `  gc: ${gc.allocatedPerReq.toFixed(0)} B alloc, ${gc.promotedPerReq.toFixed(0)} B promoted, ${gc.pauseUsPerReq.toFixed(1)} µs pause /req, ${gc.fullGcs} full GCs`;
}

/** Raw onnxruntime-node in this process (no server, no client): rows/s and CPU µs per row at batch `n` with `options`. */
async function rawOrt(n, options) {
  const session = await ort.InferenceSession.create(modelPath, options);
  const feed = { input: new ort.Tensor('float32', new Float32Array(n * 256).fill(0.5), [n, 256]) };
  for (let i = 0; i < 5; i++) await session.run(feed);
  let rows = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < Math.min(durationMs, 3000)) {
    await session.run(feed);
    rows += n;
  }
  const rps = rows / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  await session.release();
  return { rps, cpuUsPerRow: (cpu.user + cpu.system) / rows };
}
const RAW = {
  'raw ORT defaults': {},
  'raw ORT as served (spinning off)': {
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  },
  'raw ORT one thread': { intraOpNumThreads: 1 },
};

const names = opts.variants.split(',');
const all = [];
for (let round = 1; round <= Number(opts.rounds); round++) {
  const rows = {};
  const shift = (round - 1) % names.length;
  for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
    rows[name] = await measure(name);
    const r = rows[name];
    process.stdout.write(
      `round ${round} ${name.padEnd(12)} ${r.rps.toFixed(0).padStart(6)} req/s  batch ${r.meanBatch.toFixed(1).padStart(5)}  p50 ${r.p50.toFixed(2)}  p99 ${r.p99.toFixed(2)} ms  server cpu ${(r.cpu * 100).toFixed(0)}% (${r.serverUsPerReq.toFixed(0)} µs/req: ${threadText(r.threads)})  client ${r.clientUsPerReq.toFixed(0)} µs/req  machine idle ${(r.machineIdle * 100).toFixed(0)} %  load ${r.load.toFixed(1)}${r.errors ? `  errors ${r.errors}` : ''}${gcText(r.gc)}\n`,
    );
  }
  const ref = rows.on ?? Object.values(rows)[0];
  const n = Math.max(1, Math.round(ref.meanBatch));
  const ceilings = {};
  const rawCpu = {};
  for (const [label, options] of Object.entries(RAW)) {
    const raw = await rawOrt(n, options);
    ceilings[label] = raw.rps;
    rawCpu[label] = raw.cpuUsPerRow;
    process.stdout.write(
      `round ${round} ${label} at batch ${n}: ${raw.rps.toFixed(0)} rows/s, ${raw.cpuUsPerRow.toFixed(0)} µs CPU/row\n`,
    );
  }
  for (const [name, r] of Object.entries(rows)) {
    const shares = Object.entries(ceilings).map(([l, c]) => `${((100 * r.rps) / c).toFixed(0)} % of ${l}`);
    process.stdout.write(`round ${round} ${name.padEnd(12)} ${shares.join(', ')}\n`);
  }
  if (rows.off) {
    for (const [name, r] of Object.entries(rows)) {
      if (!/(^|-)off(-|$)/.test(name))
        process.stdout.write(`round ${round} ${name} ÷ off = ${(r.rps / rows.off.rps).toFixed(2)}×\n`);
    }
  }
  all.push({ round, rows, batch: n, ceilings, rawCpu });
}

process.stdout.write('\nmedians over the rounds (ratios: median of the per-round ratios)\n');
const ceilingLabel = Object.keys(RAW)[0];
for (const name of names) {
  const rs = all.map((a) => a.rows[name]);
  const parts = [
    `${median(rs.map((r) => r.rps)).toFixed(0)} req/s`,
    `batch ${median(rs.map((r) => r.meanBatch)).toFixed(1)}`,
    `server ${median(rs.map((r) => r.serverUsPerReq)).toFixed(0)} µs/req`,
    `(${threadText({
      loop: median(rs.map((r) => r.threads.loop)),
      busiest: median(rs.map((r) => r.threads.busiest)),
      rest: median(rs.map((r) => r.threads.rest)),
    })})`,
    `client ${median(rs.map((r) => r.clientUsPerReq)).toFixed(0)} µs/req`,
    `machine idle ${median(rs.map((r) => r.machineIdle * 100)).toFixed(0)} %`,
    `${median(all.map((a) => (100 * a.rows[name].rps) / a.ceilings[ceilingLabel])).toFixed(0)} % of ${ceilingLabel}`,
  ];
  if (all[0].rows.off && !/(^|-)off(-|$)/.test(name))
    parts.push(`÷ off ${median(all.map((a) => a.rows[name].rps / a.rows.off.rps)).toFixed(2)}×`);
  if (opts.gc) {
    parts.push(
      `gc ${median(rs.map((r) => r.gc.promotedPerReq)).toFixed(0)} B promoted/req, ${median(rs.map((r) => r.gc.pauseUsPerReq)).toFixed(1)} µs pause/req, ${median(rs.map((r) => r.gc.fullGcs))} full GCs`,
    );
  }
  if (all[0].rows[`before-${name}`])
    parts.push(
      `÷ before-${name} ${median(all.map((a) => a.rows[name].rps / a.rows[`before-${name}`].rps)).toFixed(2)}×`,
    );
  process.stdout.write(`${name.padEnd(14)} ${parts.join('  ')}\n`);
}
for (const label of Object.keys(RAW)) {
  const rps = median(all.map((a) => a.ceilings[label]));
  process.stdout.write(
    `${label}: ${rps.toFixed(0)} rows/s, ${median(all.map((a) => a.rawCpu[label])).toFixed(0)} µs CPU/row\n`,
  );
}
process.stdout.write(
  `load average ${median(all.flatMap((a) => Object.values(a.rows).map((r) => r.load))).toFixed(1)} (median at the variants' starts)\n`,
);
process.stdout.write(`${JSON.stringify(all)}\n`);
