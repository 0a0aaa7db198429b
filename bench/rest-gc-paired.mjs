// Paired A/B of the JS heap work per request of `servekit serve` rf_iris under V2 REST JSON load: a baseline build
// (--baseline-root DIR) and this checkout, both started with `--trace-gc --trace-gc-nvp`, driven alternately with
// wrk -t2 -c64 (--duration seconds each, order swapped every round). Per round and side: bytes allocated per answered
// request and bytes promoted to the old generation per answered request (sums of the GC lines' `allocated=` and
// `promoted=` over the round), scavenges per 10k requests, server CPU µs per request; at the end each side's RSS.
// Usage: node bench/rest-gc-paired.mjs --baseline-root DIR [--rounds 6] [--duration 2]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds, rssMiB } from './lib/proc-stats.mjs';
import { ROOT, serveArgv } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    'baseline-root': { type: 'string' },
    rounds: { type: 'string', default: '6' },
    duration: { type: 'string', default: '2' },
  },
});
if (!opts['baseline-root']) throw new Error('--baseline-root DIR (a built checkout to compare with) is required');
const FIX = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/rf_iris');
const work = mkdtempSync(join(tmpdir(), 'servekit-rest-gc-'));
const script = join(work, 'post.lua');
writeFileSync(
  join(work, 'body.json'),
  '{"inputs":[{"name":"float_input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}',
);
writeFileSync(
  script,
  `local f = io.open(${JSON.stringify(join(work, 'body.json'))}, "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/json"\n`,
);

/** Answered requests of `seconds` of wrk on `port` (throws on any non-2xx answer). */
function wrk(port, seconds) {
  const out = execFileSync(
    'wrk',
    ['-t2', '-c64', `-d${seconds}s`, '-s', script, `http://127.0.0.1:${port}/v2/models/rf_iris/infer`],
    { encoding: 'utf8' },
  );
  if (/Non-2xx/.test(out)) throw new Error(`non-2xx answers:\n${out}`);
  return Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN);
}

/** Start `servekit serve` (bin: its dist/bin.js) with GC tracing; its GC lines are summed into `gc`. */
async function start(bin) {
  const argv = serveArgv(['--model_dir', FIX, '--model_name', 'rf_iris', '--log_level', 'info']);
  if (bin) argv[0] = bin;
  const proc = spawn(process.execPath, ['--trace-gc', '--trace-gc-nvp', ...argv], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const side = { proc, gc: { allocated: 0, promoted: 0, scavenges: 0 }, port: 0, rows: [] };
  let pending = '';
  let ready;
  const listening = new Promise((r) => {
    ready = r;
  });
  proc.stdout.on('data', (chunk) => {
    pending += String(chunk);
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"http"')) {
        side.port = Number(JSON.parse(line).http.split(':')[1]);
        ready();
        continue;
      }
      const allocated = /\ballocated=(\d+)/.exec(line);
      if (!allocated) continue;
      side.gc.allocated += Number(allocated[1]);
      side.gc.promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
      if (/gc=s\b/.test(line)) side.gc.scavenges++;
    }
  });
  await listening;
  return side;
}

const sides = [
  { label: 'baseline', ...(await start(join(opts['baseline-root'], 'packages/cli/dist/bin.js'))) },
  { label: 'this checkout', ...(await start()) },
];
for (const s of sides) wrk(s.port, 2); // warm-up (JIT, onnxruntime)
const settle = () => new Promise((r) => setTimeout(r, 200)); // the last GC lines of a round reach us
for (let r = 0; r < Number(opts.rounds); r++) {
  for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
    await settle();
    const before = { ...s.gc };
    const cpu0 = cpuSeconds(s.proc.pid);
    const answered = wrk(s.port, Number(opts.duration));
    const cpu = cpuSeconds(s.proc.pid) - cpu0;
    await settle();
    s.rows.push({
      allocated: (s.gc.allocated - before.allocated) / answered,
      promoted: (s.gc.promoted - before.promoted) / answered,
      scavenges: ((s.gc.scavenges - before.scavenges) * 1e4) / answered,
      cpuUs: (cpu * 1e6) / answered,
    });
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(
  `rf_iris V2 REST JSON, wrk -t2 -c64, ${opts.rounds} rounds of ${opts.duration} s (medians over rounds [per round])\n`,
);
for (const s of sides) {
  const col = (k, digits = 0) =>
    `${median(s.rows.map((x) => x[k])).toFixed(digits)} [${s.rows.map((x) => x[k].toFixed(digits)).join(' ')}]`;
  process.stdout.write(`  ${s.label}: RSS now ${rssMiB(s.proc.pid).toFixed(0)} MiB\n`);
  process.stdout.write(`    bytes allocated per request ${col('allocated')}\n`);
  process.stdout.write(`    bytes promoted per request  ${col('promoted')}\n`);
  process.stdout.write(`    scavenges per 10k requests  ${col('scavenges', 1)}\n`);
  process.stdout.write(`    CPU µs per request          ${col('cpuUs')}\n`);
}
for (const s of sides) {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
}
