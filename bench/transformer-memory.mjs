// RSS of the churn example's transformer (examples/churn/dist/transformer.js) under a pod's memory limit, in front of a
// churn predictor: the tightest limit in examples/kserve is this transformer's 256 MiB. The transformer starts in a
// memory cgroup of --memory-limit MiB (bench/lib/memory-cgroup.mjs: root and a writable cgroup tree); wrk drives V1
// `:predict` with examples/churn/customers.json and the RSS is read after each round. The node that runs this script
// runs both servers (`/path/to/node26 bench/transformer-memory.mjs` measures the images' runtime).
// Usage: node bench/transformer-memory.mjs [--memory-limit 256] [--rounds 4] [--duration 3] [--concurrency 32]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { memoryCgroup } from './lib/memory-cgroup.mjs';
import { rssMiB } from './lib/proc-stats.mjs';
import { ROOT, serveArgv, startServer, stopServer } from './lib/servers.mjs';
import { wrkPost } from './lib/wrk.mjs';

const { values: opts } = parseArgs({
  options: {
    'memory-limit': { type: 'string', default: '256' },
    rounds: { type: 'string', default: '4' },
    duration: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
  },
});
const CHURN = join(ROOT, 'examples/churn');
const predictor = await startServer(serveArgv(['--model_dir', join(CHURN, 'model'), '--model_name', 'churn']));
const cgroup = memoryCgroup(Number(opts['memory-limit']));
const transformerArgs = ['--model_module', join(CHURN, 'dist/transformer.js'), '--model_name', 'churn'];
const predictorArgs = ['--predictor_host', `127.0.0.1:${predictor.port}`, '--predictor_protocol', 'v2'];
const transformer = await startServer(serveArgv([...transformerArgs, ...predictorArgs]), {}, cgroup.wrap);
try {
  const post = wrkPost(readFileSync(join(CHURN, 'customers.json'), 'utf8'));
  const url = `http://127.0.0.1:${transformer.port}/v1/models/churn:predict`;
  process.stdout.write(
    `churn transformer on node ${process.version}, memory limit ${opts['memory-limit']} MiB, wrk -c${opts.concurrency}\n`,
  );
  process.stdout.write(`  idle: RSS ${rssMiB(transformer.proc.pid).toFixed(0)} MiB\n`);
  for (let r = 1; r <= Number(opts.rounds); r++) {
    const x = post.run(url, Number(opts.duration), Number(opts.concurrency));
    const rss = rssMiB(transformer.proc.pid).toFixed(0);
    process.stdout.write(`  after round ${r}: RSS ${rss} MiB (${Math.round(x.rps)} req/s, ${x.errors} errors)\n`);
  }
} finally {
  await stopServer(transformer);
  await stopServer(predictor);
  cgroup.remove();
}
