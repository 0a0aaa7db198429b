// Paired A/B of the REST request path on rf_iris: `servekit serve` of a baseline build (--baseline-root DIR) and of
// this checkout, both started once, then driven alternately (wrk -t2 -c64, --duration seconds each, the order swapped
// every round). Per round it takes each server's CPU time per answered request from /proc; the figure it reports is
// the median over rounds of new ÷ baseline within the same round (two runs a few seconds apart see the same load from
// other work on the machine, which moves absolute numbers by 2× here), with each side's min and median.
// With --gc both servers run under `--trace-gc-nvp` and each round also sums the GC lines' `allocated=`
// (JS heap bytes allocated since the previous GC) and `promoted=` (bytes moved to the old generation) per answered
// request, and counts scavenges per 10k requests (bench/lib/gc-trace.mjs). Each server's RSS is read after each of its
// rounds and at the end.
// --node-args / --baseline-node-args: Node.js options for this checkout's / the baseline's server (e.g. the same build
// with and without `--max-semi-space-size=16`: `--baseline-root . --node-args=--max-semi-space-size=16`).
// Usage: node bench/rest-paired.mjs --baseline-root DIR [--rounds 16] [--duration 1] [--protocol v2|v1] [--gc]
//        [--node-args "…"] [--baseline-node-args "…"]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GC_TRACE_FLAGS, gcDelta, gcSettle, gcTotals } from './lib/gc-trace.mjs';
import { cpuSeconds, rssMiB } from './lib/proc-stats.mjs';
import { ROOT, serveArgv, startServer } from './lib/servers.mjs';
import { wrkPost } from './lib/wrk.mjs';

const { values: opts } = parseArgs({
  options: {
    'baseline-root': { type: 'string' },
    rounds: { type: 'string', default: '16' },
    duration: { type: 'string', default: '1' },
    protocol: { type: 'string', default: 'v2' },
    gc: { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
    'baseline-node-args': { type: 'string', default: '' },
  },
});
if (!opts['baseline-root']) throw new Error('--baseline-root DIR (a built checkout to compare with) is required');
const FIX = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/rf_iris');
const REQUESTS = {
  v2: [
    '/v2/models/rf_iris/infer',
    '{"inputs":[{"name":"float_input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}',
  ],
  v1: ['/v1/models/rf_iris:predict', '{"instances":[[5.1,3.5,1.4,0.2]]}'],
};
const request = REQUESTS[opts.protocol];
if (!request) throw new Error(`--protocol must be v2 or v1, got ${opts.protocol}`);
const [path, body] = request;
const post = wrkPost(body);

/** Answered requests of `seconds` of wrk on `port` (throws on any non-2xx answer). */
function wrk(port, seconds) {
  const r = post.run(`http://127.0.0.1:${port}${path}`, seconds, 64);
  if (r.errors > 0) throw new Error(`${r.errors} failed requests`);
  return r.answered;
}

/** `servekit serve` through `bin` (dist/bin.js of a checkout) under `nodeArgs`, GC-traced with --gc (running totals in `gc`). */
async function serve(label, bin, nodeArgs) {
  const argv = serveArgv(['--model_dir', FIX, '--model_name', 'rf_iris', '--log_level', 'info']);
  argv[0] = bin;
  const node = nodeArgs.split(' ').filter((a) => a !== '');
  const { proc, port } = await startServer([...node, ...(opts.gc ? GC_TRACE_FLAGS : []), ...argv]);
  return { label, proc, port, gc: opts.gc ? gcTotals(proc) : undefined, rows: [] };
}

const sides = [
  await serve('baseline', join(opts['baseline-root'], 'packages/cli/dist/bin.js'), opts['baseline-node-args']),
  await serve('this checkout', join(ROOT, 'packages/cli/dist/bin.js'), opts['node-args']),
];
for (const s of sides) wrk(s.port, 2); // warm-up (JIT, onnxruntime)
for (let r = 0; r < Number(opts.rounds); r++) {
  for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
    if (s.gc) await gcSettle(200);
    const before = s.gc && { ...s.gc };
    const cpu0 = cpuSeconds(s.proc.pid);
    const answered = wrk(s.port, Number(opts.duration));
    const cpuUs = ((cpuSeconds(s.proc.pid) - cpu0) * 1e6) / answered;
    const row = { cpuUs, rss: rssMiB(s.proc.pid) };
    if (s.gc) {
      await gcSettle(200);
      const d = gcDelta(before, s.gc);
      row.allocated = d.allocated / answered;
      row.promoted = d.promoted / answered;
      row.scavenges = (d.scavenges * 1e4) / answered;
    }
    s.rows.push(row);
  }
}
const rss = sides.map((s) => rssMiB(s.proc.pid));
for (const s of sides) {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const measures = [
  ['cpuUs', 'server CPU µs per request', 0],
  ['rss', 'RSS after the round, MiB', 0],
];
if (opts.gc) {
  measures.push(['allocated', 'JS heap bytes allocated per request', 0], ['promoted', 'bytes promoted per request', 0]);
  measures.push(['scavenges', 'scavenges per 10k requests', 1]);
}
process.stdout.write(`rf_iris ${opts.protocol} REST, wrk -t2 -c64, ${opts.rounds} rounds of ${opts.duration} s\n`);
for (const [key, title, digits] of measures) {
  process.stdout.write(`${title}\n`);
  for (const s of sides) {
    const xs = s.rows.map((row) => row[key]);
    process.stdout.write(
      `  ${s.label}: min ${Math.min(...xs).toFixed(digits)}, median ${median(xs).toFixed(digits)} [${xs.map((x) => x.toFixed(digits)).join(' ')}]\n`,
    );
  }
  const ratios = sides[1].rows.map((row, i) => row[key] / sides[0].rows[i][key]);
  process.stdout.write(
    `  this ÷ baseline, same round: median ${median(ratios).toFixed(3)} [${ratios.map((x) => x.toFixed(2)).join(' ')}]\n`,
  );
}
process.stdout.write(`RSS at the end: baseline ${rss[0].toFixed(0)} MiB, this checkout ${rss[1].toFixed(0)} MiB\n`);
