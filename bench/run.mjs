import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { generateBigMlp } from './lib/gen-models.mjs';
import { cpuSeconds, rssMiB } from './lib/proc-stats.mjs';
import { writeResults } from './lib/results.mjs';
import { batchStats, ROOT, runLoadgen, serveArgv, startServer, stopServer } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    only: { type: 'string' },
  },
});
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
const only = opts.only ? new Set(opts.only.split(',')) : undefined;
const FIX = join(ROOT, '../shared/fixtures/onnx');
const IRIS = join(FIX, 'sklearn-onnx-docs/logreg_iris/model.onnx');
const results = [];

/** Drive `server` with `spec`; record one row. */
async function measure(scenario, server, spec, extra = {}) {
  const before = await batchStats(server.port);
  const cpu0 = cpuSeconds(server.proc.pid);
  const t0 = performance.now();
  const r = await runLoadgen({ durationMs, warmupMs, ...spec });
  const wall = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(server.proc.pid) - cpu0) / wall;
  const after = await batchStats(server.port);
  const batches = after.count - before.count;
  const row = {
    scenario,
    concurrency: spec.concurrency,
    rps: Math.round(r.rps),
    p50: r.p50,
    p90: r.p90,
    p99: r.p99,
    meanBatch: batches > 0 ? (after.sum - before.sum) / batches : undefined,
    serverCpu: cpu,
    rssMiB: rssMiB(server.proc.pid),
    errors: r.errors,
    ...extra,
  };
  results.push(row);
  printRow(row);
  return row;
}

const fmt = (v, d = 2) => (v === undefined || Number.isNaN(v) ? '–' : typeof v === 'number' ? v.toFixed(d) : String(v));
function printRow(r) {
  process.stdout.write(
    `${r.scenario.padEnd(44)} c=${String(r.concurrency).padEnd(3)} ${String(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50)}  p90 ${fmt(r.p90)}  p99 ${fmt(r.p99)} ms  batch ${fmt(r.meanBatch, 1)}  cpu ${fmt(r.serverCpu * 100, 0)}%  rss ${fmt(r.rssMiB, 0)} MiB${r.errors ? `  errors ${r.errors}` : ''}\n`,
  );
}

const want = (id) => !only || only.has(id);
const c = Number(opts.concurrency);
const f32 = (values) => Buffer.from(Float32Array.from(values).buffer);
const b64 = (s) => Buffer.from(s).toString('base64');

/** Bodies for one single-input FP32 model in every protocol. */
function bodies(model, input, shape, values) {
  const json = JSON.stringify({ inputs: [{ name: input, datatype: 'FP32', shape, data: values }] });
  const raw = f32(values);
  const head = Buffer.from(
    JSON.stringify({
      inputs: [{ name: input, datatype: 'FP32', shape, parameters: { binary_data_size: raw.byteLength } }],
    }),
  );
  return {
    json: { kind: 'http', path: `/v2/models/${model}/infer`, body: b64(json) },
    binary: {
      kind: 'http',
      path: `/v2/models/${model}/infer`,
      body: Buffer.concat([head, raw]).toString('base64'),
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(head.byteLength),
      },
    },
    grpc: {
      kind: 'grpc',
      grpcRequest: {
        model_name: model,
        inputs: [{ name: input, datatype: 'FP32', shape }],
        raw_input_contents: [raw.toString('base64')],
      },
    },
    v1: { kind: 'http', path: `/v1/models/${model}:predict`, body: b64(JSON.stringify({ instances: [values] })) },
  };
}

const onnxServer = (path, name, flags = []) => startServer(['bench/servers/onnx-server.mjs', path, name, ...flags]);
const target = (s) => `http://127.0.0.1:${s.port}`;

// Scenarios 1–5: protocol overhead on the tiny iris logistic regression (1×2 FP32).
if (['s1', 's2', 's3', 's4', 's5'].some(want)) {
  const iris = bodies('iris', 'X', [1, 2], [5.1, 3.5]);
  const server = await onnxServer(IRIS, 'iris');
  const sample = await (
    await fetch(`${target(server)}/v2/models/iris/infer`, {
      method: 'POST',
      body: Buffer.from(iris.json.body, 'base64'),
    })
  ).text();
  if (want('s2'))
    await measure('s2 V2 REST JSON, iris logreg', server, { ...iris.json, target: target(server), concurrency: c });
  if (want('s3'))
    await measure('s3 V2 REST binary, iris logreg', server, { ...iris.binary, target: target(server), concurrency: c });
  if (want('s4'))
    await measure('s4 V2 gRPC raw, iris logreg', server, {
      ...iris.grpc,
      target: `127.0.0.1:${server.grpcPort}`,
      concurrency: c,
    });
  if (want('s5'))
    await measure('s5 V1 instances, iris logreg', server, { ...iris.v1, target: target(server), concurrency: c });
  await stopServer(server);
  if (want('s1')) {
    const bare = await startServer(['bench/servers/bare-fastify.mjs', b64(sample)]);
    await measure('s1 ceiling: bare fastify, same response', bare, {
      ...iris.json,
      target: target(bare),
      concurrency: c,
    });
    await stopServer(bare);
  }
}

// Scenario 4 vs 2 on a 1×784 FP32 input (mlp_784).
if (want('s4b')) {
  const values = Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255);
  const mlp = bodies('mlp', 'input', [1, 784], values);
  const server = await onnxServer(join(FIX, 'bench/mlp_784/model.onnx'), 'mlp');
  await measure('s4b V2 REST JSON, 1×784 mlp_784', server, { ...mlp.json, target: target(server), concurrency: c });
  await measure('s4b V2 gRPC raw, 1×784 mlp_784', server, {
    ...mlp.grpc,
    target: `127.0.0.1:${server.grpcPort}`,
    concurrency: c,
  });
  // The same request serialized once by the load generator (no protobufjs work per call on the client side),
  // as the REST rows send a prebuilt body: what the server's gRPC path costs.
  await measure('s4b V2 gRPC raw, prebuilt bytes, 1×784 mlp_784', server, {
    ...mlp.grpc,
    grpcPreserialized: true,
    target: `127.0.0.1:${server.grpcPort}`,
    concurrency: c,
  });
  await stopServer(server);
}

// Scenario 6: batching off vs on for a weight-bound MLP, a conv net and a light MLP.
const batchingFlags = ['--max_batch_size', '64', '--max_latency_ms', '2', '--max_inflight_batches', '1'];
async function batchingScenario(id, label, modelPath, input, width, concurrencies) {
  const values = Array.from({ length: width }, (_, i) => ((i * 13) % 17) / 17);
  const shape = input === 'input' && width === 784 && label.includes('cnn') ? [1, 1, 28, 28] : [1, width];
  const body = bodies('m', input, shape, values).binary;
  for (const [mode, flags] of [
    ['off', []],
    ['on', batchingFlags],
  ]) {
    const server = await onnxServer(modelPath, 'm', flags);
    for (const conc of concurrencies) {
      await measure(`${id} ${label}, batching ${mode}`, server, { ...body, target: target(server), concurrency: conc });
    }
    await stopServer(server);
  }
}
/** The generated 19 MB MLP (bench/out/mlp_big), made on first use. */
const bigMlpDir = () =>
  existsSync(join(ROOT, 'bench/out/mlp_big/model.onnx')) ? join(ROOT, 'bench/out/mlp_big') : generateBigMlp();
if (want('s6')) {
  const dir = bigMlpDir();
  await batchingScenario('s6', 'MLP 256→2048→2048→10', join(dir, 'model.onnx'), 'input', 256, [1, 8, 64]);
  await batchingScenario('s6', 'cnn_mnist', join(FIX, 'bench/cnn_mnist/model.onnx'), 'input', 784, [64]);
  await batchingScenario('s6', 'mlp_784', join(FIX, 'bench/mlp_784/model.onnx'), 'input', 784, [64]);
}

// Scenario 7: raw onnxruntime-node in this process at fixed batch sizes (the compute ceiling).
if (want('s7')) {
  const dir = bigMlpDir();
  for (const [label, path, width, shape] of [
    ['MLP 256→2048→2048→10', join(dir, 'model.onnx'), 256, (n) => [n, 256]],
    ['cnn_mnist', join(FIX, 'bench/cnn_mnist/model.onnx'), 784, (n) => [n, 1, 28, 28]],
    ['mlp_784', join(FIX, 'bench/mlp_784/model.onnx'), 784, (n) => [n, 784]],
  ]) {
    const session = await ort.InferenceSession.create(path);
    for (const n of [1, 8, 32, 64]) {
      const feed = { input: new ort.Tensor('float32', new Float32Array(n * width).fill(0.5), shape(n)) };
      for (let i = 0; i < 5; i++) await session.run(feed);
      let rows = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < Math.min(durationMs, 3000)) {
        await session.run(feed);
        rows += n;
      }
      const rowsPerSec = Math.round(rows / ((performance.now() - t0) / 1000));
      const row = {
        scenario: `s7 raw ORT in-process, ${label}, batch ${n}`,
        concurrency: 1,
        rps: rowsPerSec,
        unit: 'rows/s',
      };
      results.push(row);
      process.stdout.write(`${row.scenario.padEnd(60)} ${String(rowsPerSec).padStart(7)} rows/s\n`);
    }
    await session.release();
  }
}

// Scenario 8: cold start (spawn → /v2/health/ready 200) and idle RSS.
async function coldStart(label, args) {
  const times = [];
  let rss;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const server = await startServer(args);
    while ((await fetch(`${target(server)}/v2/health/ready`)).status !== 200)
      await new Promise((r) => setTimeout(r, 5));
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 300));
    rss = rssMiB(server.proc.pid);
    await stopServer(server);
  }
  times.sort((a, b) => a - b);
  const row = { scenario: `s8 cold start, ${label}`, coldStartMs: times[2], coldStartMinMs: times[0], rssIdleMiB: rss };
  results.push(row);
  process.stdout.write(
    `${row.scenario.padEnd(44)} median ${fmt(times[2], 0)} ms (min ${fmt(times[0], 0)})  idle rss ${fmt(rss, 0)} MiB\n`,
  );
}
if (want('s8')) {
  await coldStart('iris ONNX (ModelServer + OnnxModel)', ['bench/servers/onnx-server.mjs', IRIS, 'iris']);
  const cli = join(ROOT, 'packages/cli/dist/bin.js');
  if (existsSync(cli)) {
    const serve = (dir, name) => serveArgv(['--model_dir', dir, '--model_name', name]);
    await coldStart('iris ONNX (servekit serve)', serve(join(FIX, 'sklearn-onnx-docs/logreg_iris'), 'iris'));
    await coldStart(
      'sklearn churn model.joblib (servekit serve)',
      serve(join(ROOT, '../shared/fixtures/sklearn/churn'), 'churn'),
    );
  }
}

// Scenario 9: a MobileNet-sized TensorFlow SavedModel on tfjs-wasm vs the ONNX path vs raw ORT (bench/tf.mjs).
if (want('s9')) {
  const { runTfScenario } = await import('./tf.mjs');
  await runTfScenario({ durationMs, warmupMs, record: (row) => results.push(row) });
}

const { machine } = writeResults('results', { durationMs, results });
process.stdout.write(`\nmachine: ${JSON.stringify(machine)}\nwritten: bench/out/results.json\n`);
