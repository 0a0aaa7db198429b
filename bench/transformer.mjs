import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeResults } from './lib/results.mjs';
import { ROOT, runLoadgen, serve, serveArgv, startServer, stopServer } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '0.5' },
    rounds: { type: 'string', default: '3' },
  },
});
const rounds = Number(opts.rounds);
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
const CHURN = join(ROOT, '../shared/fixtures/sklearn/churn');
const customer = JSON.parse(readFileSync(join(CHURN, 'expected.json'), 'utf8')).inputs[0];
const b64 = (s) => Buffer.from(s).toString('base64');

// A pass-through transformer: the base class forwards whatever arrives.
const work = mkdtempSync(join(tmpdir(), 'servekit-bench-transformer-'));
const MODULE = join(work, 'passthrough.mjs');
writeFileSync(
  MODULE,
  `import { Transformer } from '${pathToFileURL(join(ROOT, 'packages/core/dist/index.js')).href}';\nexport default class PassThrough extends Transformer {}\n`,
);

const row = JSON.stringify(customer);
const v1 = { kind: 'http', path: '/v1/models/churn:predict', body: b64(JSON.stringify({ instances: [customer] })) };
const v2 = {
  kind: 'http',
  path: '/v2/models/churn/infer',
  body: b64(JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'BYTES', shape: [1], data: [row] }] })),
};
const rowBytes = Buffer.from(row);
const lenPrefix = Buffer.alloc(4);
lenPrefix.writeUInt32LE(rowBytes.byteLength);
const grpcReq = {
  kind: 'grpc',
  grpcRequest: {
    model_name: 'churn',
    inputs: [{ name: 'input-0', datatype: 'BYTES', shape: [1] }],
    raw_input_contents: [Buffer.concat([lenPrefix, rowBytes]).toString('base64')],
  },
};

const http = (s) => `http://127.0.0.1:${s.port}`;
const grpcTarget = (s) => `127.0.0.1:${s.grpcPort}`;
const transformer = (flags) => startServer(serveArgv(['--model_module', MODULE, '--model_name', 'churn', ...flags]));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One loadgen run; any failed request stops the bench (a broken setup must not pass as a number). */
async function once(label, server, body, target, concurrency) {
  const r = await runLoadgen({ durationMs, warmupMs, ...body, target: target(server), concurrency });
  if (r.errors > 0 || r.requests === 0) throw new Error(`${label} c=${concurrency}: ${r.errors} errors`);
  return r;
}

const predictor = await serve(CHURN, 'churn');
const host = `127.0.0.1:${predictor.port}`;
const servers = [predictor];
const rows = [];
try {
  const cases = [
    ['direct predictor, REST V1', predictor, v1, http],
    ['direct predictor, REST V2 JSON', predictor, v2, http],
    ['direct predictor, gRPC V2', predictor, grpcReq, grpcTarget],
  ];
  for (const [label, flags, body, target] of [
    ['transformer → predictor, REST V1', ['--predictor_host', host], v1, http],
    ['transformer → predictor, REST V2 JSON', ['--predictor_host', host, '--predictor_protocol', 'v2'], v2, http],
    [
      'transformer → predictor, gRPC V2',
      ['--predictor_host', `127.0.0.1:${predictor.grpcPort}`, '--predictor_protocol', 'grpc-v2'],
      grpcReq,
      grpcTarget,
    ],
    ['transformer, in-process predictor, V1', ['--predictor_model_dir', CHURN], v1, http],
    [
      'transformer, in-process predictor, V2 JSON',
      ['--predictor_model_dir', CHURN, '--predictor_protocol', 'v2'],
      v2,
      http,
    ],
  ]) {
    const t = await transformer(flags);
    servers.push(t);
    cases.push([label, t, body, target]);
  }
  // Rounds interleave the cases, so a load change on the machine hits all of them alike; medians are reported.
  const runs = new Map(cases.map(([label]) => [label, { c1: [], c16: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (const [label, server, body, target] of cases) {
      for (const c of [1, 16]) runs.get(label)[`c${c}`].push(await once(label, server, body, target, c));
    }
    process.stdout.write(`round ${round + 1}/${rounds} done\n`);
  }
  for (const [label] of cases) {
    const { c1, c16 } = runs.get(label);
    const row = {
      label,
      c1: { p50: median(c1.map((r) => r.p50)), p99: median(c1.map((r) => r.p99)), rps: median(c1.map((r) => r.rps)) },
      c16: {
        rps: median(c16.map((r) => r.rps)),
        p50: median(c16.map((r) => r.p50)),
        p99: median(c16.map((r) => r.p99)),
      },
      runs: { c1, c16 },
    };
    rows.push(row);
    process.stdout.write(
      `${label.padEnd(44)} c=1 p50 ${row.c1.p50.toFixed(2)} p99 ${row.c1.p99.toFixed(2)} ms | c=16 ${Math.round(row.c16.rps)} req/s (p99 ${row.c16.p99.toFixed(2)} ms)\n`,
    );
  }
} finally {
  for (const s of servers.reverse()) await stopServer(s);
  rmSync(work, { recursive: true, force: true });
}

const { machine } = writeResults('transformer', { durationMs, warmupMs, rounds, rows });
process.stdout.write(`\nmachine: ${JSON.stringify(machine)}\nwritten: bench/out/transformer.json\n`);
