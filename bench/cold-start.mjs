// Cold start of `servekit serve` on rf_iris, several builds side by side: spawn → /v2/health/ready 200, the spawns of
// the builds alternated; wall time and the server's CPU time until ready (user + system, from /proc: on a shared
// machine wall time mostly measures the run queue, CPU time what the start-up costs).
// Usage: node bench/cold-start.mjs [--spawns 5] [--builds label=DIR[@ENTRY][+ENV=V],…] (DIR: a built checkout;
//        default this one as "this"; ENTRY: the script run, relative to DIR, default packages/cli/bin/servekit.js,
//        the bin users run; ENV=V: an environment variable set for that build, e.g. dist=.+SERVEKIT_BUNDLE=0)
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { ROOT, serveArgv, startServer, stopServer } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: { spawns: { type: 'string', default: '5' }, builds: { type: 'string', default: `this=${ROOT}` } },
});
const model = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/rf_iris');
const builds = opts.builds.split(',').map((b) => {
  const [spec, ...envs] = b.split('+');
  const [label, target] = spec.split(/=(.*)/s);
  const [dir, entry = 'packages/cli/bin/servekit.js'] = target.split('@');
  const env = Object.fromEntries(envs.map((e) => e.split(/=(.*)/s).slice(0, 2)));
  return { label, bin: join(dir, entry), env, wall: [], cpu: [] };
});

for (let i = 0; i < Number(opts.spawns); i++) {
  for (const b of i % 2 === 0 ? builds : [...builds].reverse()) {
    const argv = serveArgv(['--model_dir', model, '--model_name', 'rf_iris', '--log_level', 'info']);
    argv[0] = b.bin;
    const t0 = performance.now();
    const server = await startServer(argv, { SERVEKIT_DRAIN_DELAY_SECONDS: '0', ...b.env });
    while ((await fetch(`http://127.0.0.1:${server.port}/v2/health/ready`)).status !== 200)
      await new Promise((r) => setTimeout(r, 2));
    b.wall.push(performance.now() - t0);
    b.cpu.push(cpuSeconds(server.proc.pid) * 1000);
    await stopServer(server);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const first = builds[0];
process.stdout.write(`cold start, rf_iris, ${opts.spawns} spawns per build, alternated\n`);
for (const b of builds) {
  const cpuRatio = median(b.cpu) / median(first.cpu);
  process.stdout.write(
    `  ${b.label.padEnd(12)} wall median ${median(b.wall).toFixed(0)} ms (min ${Math.min(...b.wall).toFixed(0)}); ` +
      `CPU until ready median ${median(b.cpu).toFixed(0)} ms (min ${Math.min(...b.cpu).toFixed(0)}), ÷ ${first.label} ${cpuRatio.toFixed(2)}\n`,
  );
}
