// JS heap bytes allocated per request on servekit's own V2 request path (the one bench/rest-core-path.mjs times:
// body bytes → parseV2JsonBody → decodeInferRequest → makeContext → dataplane.inferV2 on rf_iris ONNX, its session on
// the event loop → encodeInferResponse), 64 requests in flight. Each measure is a child process run with
// --trace-gc-nvp: a forced GC before and after N requests, and the `allocated=` of every GC in between summed
// (bytes allocated since the previous GC). Builds (--root, repeatable) and environments (--env NAME=VALUE per
// variant, e.g. SERVEKIT_ORT_API=public) are measured alternately, round after round.
// Usage: node bench/alloc-per-request.mjs --variant base=/work/wt/base-main --variant new=. \
//          [--variant 'public=.:SERVEKIT_ORT_API=public'] [--rounds 3] [--requests 20000]
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const SELF = fileURLToPath(import.meta.url);
const HERE = resolve(SELF, '../..');

const { values: opts } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [`this=${HERE}`] },
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '20000' },
    child: { type: 'string' },
  },
});

if (opts.child) await child(opts.child, Number(opts.requests));
else parent();

/** Measure every variant `rounds` times, alternately; print bytes per request. */
function parent() {
  const variants = opts.variant.map((v) => {
    const [name, rest] = v.split(/=(.*)/s);
    const [root, ...envs] = rest.split(':');
    const env = Object.fromEntries(envs.map((e) => e.split(/=(.*)/s).slice(0, 2)));
    return { name, root: resolve(root), env, results: [] };
  });
  for (let r = 0; r < Number(opts.rounds); r++) {
    for (const v of variants) {
      const out = spawnSync(
        process.execPath,
        ['--trace-gc-nvp', '--expose-gc', SELF, '--child', v.root, '--requests', opts.requests],
        { env: { ...process.env, ...v.env }, encoding: 'utf8', maxBuffer: 256 << 20 },
      );
      if (out.status !== 0) throw new Error(`${v.name}: ${out.stderr}`);
      const lines = out.stdout.split('\n');
      const from = lines.indexOf('MEASURE-START');
      const to = lines.indexOf('MEASURE-END');
      let bytes = 0;
      for (const line of lines.slice(from + 1, to)) {
        const m = / allocated=(\d+)/.exec(line);
        if (m) bytes += Number(m[1]);
      }
      v.results.push(bytes / Number(opts.requests));
    }
  }
  for (const v of variants) {
    const env = Object.entries(v.env).map(([k, x]) => ` ${k}=${x}`);
    process.stdout.write(
      `${v.name} (${v.root}${env.join('')}): bytes allocated per request, min ${Math.min(...v.results).toFixed(0)} [${v.results.map((x) => x.toFixed(0)).join(' ')}]\n`,
    );
  }
}

/** The measured process: warm up, then `n` requests between two forced GCs. */
async function child(root, n) {
  const load = (rel) => import(pathToFileURL(join(root, rel)).href);
  const { ModelServer } = await load('packages/core/dist/index.js');
  const { OnnxModel } = await load('packages/onnx/dist/index.js');
  const { parseV2JsonBody } = await load('packages/core/dist/tensor/json-numeric.js');
  const { decodeInferRequest, encodeInferResponse } = await load('packages/core/dist/protocols/v2-codec.js');
  const { makeContext } = await load('packages/core/dist/protocols/context.js');
  const server = new ModelServer({
    httpPort: 0,
    grpcPort: 0,
    host: '127.0.0.1',
    defaultMetrics: false,
    logLevel: 'silent',
    enableGrpc: false,
  });
  const modelDir = join(HERE, '../shared/fixtures/onnx/sklearn-onnx-docs/rf_iris');
  await server.start([new OnnxModel('rf_iris', { modelDir })]);
  const dataplane = server.dataplane;
  const body = Buffer.from(
    '{"inputs":[{"name":"float_input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}',
  );
  const headers = { 'content-type': 'application/json', host: '127.0.0.1', 'content-length': String(body.length) };
  const one = async () => {
    const parsed = parseV2JsonBody(body, dataplane.limits.maxJsonDepth);
    const req = decodeInferRequest(parsed.body, undefined, { limits: dataplane.limits, numericData: parsed.blocks });
    const ctx = makeContext(headers, 'v2', () => new AbortController().signal, req.id);
    const res = await dataplane.inferV2('rf_iris', undefined, req, ctx);
    return Buffer.from(encodeInferResponse(res, req).json);
  };
  const requests = async (count) => {
    let left = count;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (left-- > 0) await one();
      }),
    );
  };
  await requests(n); // warm-up: compiled code, caches
  globalThis.gc();
  process.stdout.write('MEASURE-START\n');
  await requests(n);
  globalThis.gc();
  process.stdout.write('MEASURE-END\n');
  await server.stop();
}
