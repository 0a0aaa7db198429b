// Paired A/B of the JS heap bytes a REST request costs: `servekit serve` of rf_iris from a baseline build
// (--baseline-root DIR) and from this checkout, each under `--trace-gc --trace-gc-nvp`, driven alternately by wrk
// (-t2 -c64, --duration seconds each, the order swapped every round). Per round it sums the `allocated=` (bytes
// allocated since the previous GC) and `promoted=` (bytes moved to the old generation) figures of every GC the
// server logged during the round, divided by the requests answered; plus the server CPU µs per request. Reports each
// side's median and the median of new ÷ baseline within a round.
// Usage: node bench/rest-alloc.mjs --baseline-root DIR [--rounds 8] [--duration 2] [--protocol v2|v1]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { ROOT, serveArgv } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    'baseline-root': { type: 'string' },
    rounds: { type: 'string', default: '8' },
    duration: { type: 'string', default: '2' },
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
const work = mkdtempSync(join(tmpdir(), 'servekit-rest-alloc-'));
const script = join(work, 'post.lua');
writeFileSync(join(work, 'body.json'), body);
writeFileSync(
  script,
  `local f = io.open(${JSON.stringify(join(work, 'body.json'))}, "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/json"\n`,
);

/** Answered requests of `seconds` of wrk on `port` (throws on any non-2xx answer). */
function wrk(port, seconds) {
  const out = execFileSync('wrk', ['-t2', '-c64', `-d${seconds}s`, '-s', script, `http://127.0.0.1:${port}${path}`], {
    encoding: 'utf8',
  });
  if (/Non-2xx/.test(out)) throw new Error(`non-2xx answers:\n${out}`);
  return Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN);
}

/** `servekit serve` (dist/bin.js under `root`) with GC tracing; keeps running sums of the traced GC figures. */
async function serve(label, root) {
  const argv = serveArgv(['--model_dir', FIX, '--model_name', 'rf_iris', '--log_level', 'info']);
  argv[0] = join(root, 'packages/cli/dist/bin.js');
  const proc = spawn(process.execPath, ['--trace-gc', '--trace-gc-nvp', ...argv], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const side = { label, proc, port: 0, allocated: 0, promoted: 0, rows: [] };
  let pending = '';
  await new Promise((resolve, reject) => {
    proc.once('exit', () => reject(new Error(`server from ${root} exited before listening`)));
    proc.stdout.on('data', (chunk) => {
      pending += String(chunk);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const allocated = /\ballocated=(\d+)/.exec(line);
        if (allocated) {
          side.allocated += Number(allocated[1]);
          side.promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
        } else if (line.includes('"http"')) {
          side.port = Number(JSON.parse(line).http.split(':')[1]);
          resolve();
        }
      }
    });
  });
  return side;
}

const sides = [await serve('baseline', opts['baseline-root']), await serve('this checkout', ROOT)];
for (const s of sides) wrk(s.port, 2); // warm-up (JIT, onnxruntime)
const settle = () => new Promise((r) => setTimeout(r, 200)); // the last GC lines of a round reach us
for (let r = 0; r < Number(opts.rounds); r++) {
  for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
    await settle();
    const [a0, p0, cpu0] = [s.allocated, s.promoted, cpuSeconds(s.proc.pid)];
    const answered = wrk(s.port, Number(opts.duration));
    const cpuUs = ((cpuSeconds(s.proc.pid) - cpu0) * 1e6) / answered;
    await settle();
    s.rows.push({ kb: (s.allocated - a0) / answered / 1024, promotedKb: (s.promoted - p0) / answered / 1024, cpuUs });
  }
}
for (const s of sides) {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const col = (s, k) => s.rows.map((row) => row[k]);
process.stdout.write(
  `rf_iris ${opts.protocol} REST, wrk -t2 -c64, ${opts.rounds} rounds of ${opts.duration} s, per answered request (medians)\n`,
);
for (const s of sides) {
  process.stdout.write(
    `  ${s.label}: allocated ${median(col(s, 'kb')).toFixed(1)} KB [${col(s, 'kb')
      .map((x) => x.toFixed(1))
      .join(
        ' ',
      )}], promoted ${median(col(s, 'promotedKb')).toFixed(2)} KB, CPU ${median(col(s, 'cpuUs')).toFixed(0)} µs\n`,
  );
}
for (const k of ['kb', 'promotedKb', 'cpuUs']) {
  const ratios = sides[1].rows.map((row, i) => row[k] / sides[0].rows[i][k]);
  process.stdout.write(
    `  ${k === 'kb' ? 'allocated' : k === 'promotedKb' ? 'promoted' : 'CPU'} this ÷ baseline, same round: median ${median(ratios).toFixed(3)} [${ratios.map((x) => x.toFixed(2)).join(' ')}]\n`,
  );
}
