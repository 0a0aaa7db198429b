import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SESSION_OPTIONS } from '@servekit/onnx';
import { freezeSavedModel, GraphDefBuilder, loadSavedModel, lowerFrozenGraph, seededUniform } from '@servekit/tf';
import * as ort from 'onnxruntime-node';
import { cpuSeconds, rssMiB } from './lib/proc-stats.mjs';
import { batchStats, ROOT, runLoadgen, serve, stopServer } from './lib/servers.mjs';

const SIZE = 224;

/** Keras MobileNet v1 (alpha 1): stem conv s2, 13 depthwise-separable blocks (BN + ReLU6 each), GAP, dense 1000. */
export function buildMobileNet(dir) {
  const g = new GraphDefBuilder(7);
  const image = g.placeholder('image', [-1, SIZE, SIZE, 3]);
  const bnRelu6 = (x, name) => g.unary('Relu6', g.batchNorm(x, `${name}/bn`), `${name}/relu6`);
  let x = bnRelu6(g.conv2d(image, { filters: 32, stride: 2 }, 'conv1'), 'conv1');
  const blocks = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [1024, 2],
    [1024, 1],
  ];
  blocks.forEach(([filters, stride], i) => {
    x = bnRelu6(g.depthwiseConv2d(x, { stride }, `block${i + 1}/dw`), `block${i + 1}/dw`);
    x = bnRelu6(g.conv2d(x, { filters, kernel: 1 }, `block${i + 1}/pw`), `block${i + 1}/pw`);
  });
  const probs = g.unary('Softmax', g.dense(g.globalAvgPool(x), 1000, 'predictions'), 'softmax');
  g.write(dir, { image }, { probs });
  const params = g.nodes
    .filter((n) => n.op === 'Const')
    .reduce(
      (sum, n) => sum + (n.attr?.value?.tensor?.tensor_shape?.dim ?? []).reduce((a, d) => a * Number(d.size), 1),
      0,
    );
  return { dir, params };
}

/** A binary-extension V2 request body for one 1×224×224×3 image. */
function imageBody() {
  const raw = Buffer.from(seededUniform(SIZE * SIZE * 3, 0.5, 42).map((v) => v + 0.5).buffer);
  const head = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'image',
          datatype: 'FP32',
          shape: [1, SIZE, SIZE, 3],
          parameters: { binary_data_size: raw.byteLength },
        },
      ],
    }),
  );
  const bodyFile = join(ROOT, 'bench/out/tf_mobilenet_request.bin');
  writeFileSync(bodyFile, Buffer.concat([head, raw]));
  return {
    kind: 'http',
    path: '/v2/models/mobilenet/infer',
    bodyFile,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.byteLength) },
  };
}

const BATCHING = ['--max_batch_size', '8', '--max_latency_ms', '5', '--max_inflight_batches', '1'];

/** Time `fn` (an async run of `rows` rows) for `ms`; rows/s and mean ms per call. */
async function timeRuns(fn, rows, ms, warm = 2) {
  for (let i = 0; i < warm; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms || n < 3) {
    await fn();
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  return { rowsPerSec: (n * rows) / s, msPerRun: (s * 1000) / n, runs: n };
}

/** Run scenario s9; returns its rows (also printed). */
export async function runTfScenario({ durationMs = 5000, warmupMs = 1000, record = () => {} } = {}) {
  const rows = [];
  const push = (row) => {
    rows.push(row);
    record(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  };
  const dir = join(ROOT, 'bench/out/tf_mobilenet');
  mkdirSync(dir, { recursive: true });
  const { params } = buildMobileNet(dir);
  process.stdout.write(`s9 MobileNet-v1-like SavedModel: ${(params / 1e6).toFixed(2)}M params in ${dir}\n`);
  const body = imageBody();

  for (const engine of ['onnx', 'tfjs']) {
    const server = await serve(dir, 'mobilenet', ['--tf_engine', engine, ...BATCHING]);
    try {
      for (const concurrency of [1, 8]) {
        const before = await batchStats(server.port);
        const cpu0 = cpuSeconds(server.proc.pid);
        const t0 = performance.now();
        const r = await runLoadgen({
          ...body,
          target: `http://127.0.0.1:${server.port}`,
          concurrency,
          durationMs,
          warmupMs: engine === 'tfjs' ? Math.max(warmupMs, 3000) : warmupMs,
        });
        const wall = (performance.now() - t0) / 1000;
        const after = await batchStats(server.port);
        push({
          scenario: `s9 servekit --tf_engine ${engine}, batching on`,
          concurrency,
          rps: Number(r.rps.toFixed(2)),
          p50: r.p50,
          p90: r.p90,
          p99: r.p99,
          requests: r.requests,
          meanBatch: after.count > before.count ? (after.sum - before.sum) / (after.count - before.count) : undefined,
          serverCpu: (cpuSeconds(server.proc.pid) - cpu0) / wall,
          clientCpu: r.clientCpu,
          rssMiB: rssMiB(server.proc.pid),
          errors: r.errors,
        });
      }
    } finally {
      await stopServer(server);
    }
  }

  // Raw onnxruntime-node in this process on the very graph `--tf_engine onnx` serves, same session options.
  const graph = freezeSavedModel(dir).signatures.find((s) => s.info.name === 'serving_default').graph;
  for (const [label, relax] of [
    ['as served (input shapes relaxed)', true],
    ['signature input shapes declared', false],
  ]) {
    const bytes = lowerFrozenGraph(graph, { relaxInputShapes: relax }).bytes;
    const session = await ort.InferenceSession.create(bytes, { ...DEFAULT_SESSION_OPTIONS });
    for (const batch of [1, 8]) {
      const data = new Float32Array(batch * SIZE * SIZE * 3).fill(0.5);
      const feed = { image: new ort.Tensor('float32', data, [batch, SIZE, SIZE, 3]) };
      const t = await timeRuns(() => session.run(feed), batch, Math.min(durationMs, 4000));
      push({
        scenario: `s9 raw onnxruntime-node in-process, ${label}`,
        batch,
        rowsPerSec: Number(t.rowsPerSec.toFixed(2)),
        msPerRun: Number(t.msPerRun.toFixed(2)),
        runs: t.runs,
      });
    }
    await session.release();
  }

  // tfjs-wasm in this process (no server): the compute ceiling of the tfjs path.
  const h = await loadSavedModel(dir, { engine: 'tfjs' });
  for (const batch of [1, 8]) {
    const data = new Float32Array(batch * SIZE * SIZE * 3).fill(0.5);
    const input = [{ name: 'image', datatype: 'FP32', shape: [batch, SIZE, SIZE, 3], data }];
    const t = await timeRuns(() => h.run(undefined, input), batch, Math.min(durationMs, 4000), 1);
    push({
      scenario: 's9 raw tfjs-wasm in-process',
      batch,
      rowsPerSec: Number(t.rowsPerSec.toFixed(2)),
      msPerRun: Number(t.msPerRun.toFixed(2)),
      runs: t.runs,
    });
  }
  await h.dispose();
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { duration: { type: 'string', default: '5' }, warmup: { type: 'string', default: '1' } },
  });
  if (!existsSync(join(ROOT, 'packages/cli/dist/bin.js'))) throw new Error('run `npx tsc -b` first');
  const rows = await runTfScenario({
    durationMs: Number(values.duration) * 1000,
    warmupMs: Number(values.warmup) * 1000,
  });
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version };
  writeFileSync(join(ROOT, 'bench/out/tf-results.json'), `${JSON.stringify({ machine, rows }, null, 2)}\n`);
  process.stdout.write(`written: bench/out/tf-results.json\n`);
}
