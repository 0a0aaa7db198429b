// Paired A/B of the REST request path on rf_iris: `servekit serve` of a baseline build (--baseline-root DIR) and of
// this checkout, both started once, then driven alternately (wrk -t2 -c64, --duration seconds each, the order swapped
// every round). Per round it takes each server's CPU time per answered request from /proc; the figure it reports is
// the median over rounds of new ÷ baseline within the same round (two runs a few seconds apart see the same load from
// other work on the machine, which moves absolute numbers by 2× here), with each side's min and median.
// Usage: node bench/rest-paired.mjs --baseline-root DIR [--rounds 16] [--duration 1] [--protocol v2|v1]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { ROOT, serveArgv, startServer, stopServer } from './lib/servers.mjs';
import { wrkPost } from './lib/wrk.mjs';

const { values: opts } = parseArgs({
  options: {
    'baseline-root': { type: 'string' },
    rounds: { type: 'string', default: '16' },
    duration: { type: 'string', default: '1' },
    protocol: { type: 'string', default: 'v2' },
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

const serve = (bin) => {
  const argv = serveArgv(['--model_dir', FIX, '--model_name', 'rf_iris', '--log_level', 'info']);
  if (bin) argv[0] = bin;
  return startServer(argv);
};
const sides = [
  { label: 'baseline', server: await serve(join(opts['baseline-root'], 'packages/cli/dist/bin.js')), cpuUs: [] },
  { label: 'this checkout', server: await serve(), cpuUs: [] },
];
for (const s of sides) wrk(s.server.port, 2); // warm-up (JIT, onnxruntime)
for (let r = 0; r < Number(opts.rounds); r++) {
  for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
    const cpu0 = cpuSeconds(s.server.proc.pid);
    const answered = wrk(s.server.port, Number(opts.duration));
    s.cpuUs.push(((cpuSeconds(s.server.proc.pid) - cpu0) * 1e6) / answered);
  }
}
for (const s of sides) await stopServer(s.server);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratios = sides[1].cpuUs.map((c, i) => c / sides[0].cpuUs[i]);
process.stdout.write(
  `rf_iris ${opts.protocol} REST, wrk -t2 -c64, ${opts.rounds} rounds of ${opts.duration} s, server CPU µs per request\n`,
);
for (const s of sides) {
  process.stdout.write(
    `  ${s.label}: min ${Math.min(...s.cpuUs).toFixed(0)}, median ${median(s.cpuUs).toFixed(0)} [${s.cpuUs.map((x) => x.toFixed(0)).join(' ')}]\n`,
  );
}
process.stdout.write(
  `  this ÷ baseline, same round: median ${median(ratios).toFixed(3)} [${ratios.map((x) => x.toFixed(2)).join(' ')}]\n`,
);
