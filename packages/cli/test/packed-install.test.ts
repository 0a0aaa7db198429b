// servekit as npm users get it: every workspace package is packed with `npm pack`, the tarballs are installed into
// an empty project with `npm ci --offline` (registry dependencies from the npm cache that `npm ci` filled, at the
// repository's locked versions; the registry is pointed at a closed loopback port, so any registry access fails),
// and there a custom Model answers REST V1/V2 and gRPC V2 through @servekit/client, and the installed `servekit`
// bin serves the churn model.joblib and rf_iris's ONNX file from the CLI's esbuild bundle (dist/bundle/, built by the
// package's prepack): a resolve hook records every module the server loads, and none is an @servekit/* package's own
// file. Nothing here reads the repository's sources or node_modules.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX, ROOT } from './cli-process.js';
import { type Lockfile, lockForTarballs, type PackedWorkspace } from './packed-lock.js';

const exec = promisify(execFile);

/** The published workspaces (the examples are not published). */
const WORKSPACES = ['core', 'client', 'onnx', 'storage', 'sklearn', 'xgboost', 'tf', 'cli'].map((p) => `packages/${p}`);

/** npm's environment: offline, no registry reachable, onnxruntime-node's optional GPU download skipped. */
const NO_REGISTRY = 'http://127.0.0.1:9/';
/** What `npm test` put in our environment about the repository's project (its package, prefix, …), minus the cache. */
const INHERITED = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^npm_/i.test(k) || /^npm_config_(cache|userconfig|globalconfig)$/i.test(k),
  ),
);
const NPM_ENV = {
  ...INHERITED,
  npm_config_registry: NO_REGISTRY,
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_onnxruntime_node_install: 'skip',
  ONNXRUNTIME_NODE_INSTALL: 'skip',
};

interface PackResult {
  name: string;
  filename: string;
  integrity: string;
  size: number;
  files: { path: string }[];
}

// The README's "Writing a model", in plain JS, served by the installed @servekit/core and asked through the
// installed @servekit/client over REST V1, REST V2 and gRPC V2; prints what it got as one JSON line.
const MODEL_SCRIPT = `
import { Model, ModelServer, isInferRequest } from '@servekit/core';
import { GrpcClient, RestClient } from '@servekit/client';

class Doubler extends Model {
  async load() {
    this.factor = 2;
  }
  predict(payload) {
    if (isInferRequest(payload)) {
      const x = payload.inputs[0];
      return {
        model_name: this.name,
        outputs: [{ name: 'doubled', datatype: 'FP32', shape: x.shape, data: Float32Array.from(x.data, (v) => v * this.factor) }],
      };
    }
    return { predictions: payload.instances.map((v) => v * this.factor) };
  }
}

const server = new ModelServer({ httpPort: 0, grpcPort: 0, host: '127.0.0.1', logLevel: 'silent' });
const { httpPort, grpcPort } = await server.start([new Doubler('doubler')]);
const rest = new RestClient({ baseUrl: 'http://127.0.0.1:' + httpPort });
const grpc = new GrpcClient({ address: '127.0.0.1:' + grpcPort });
const input = { name: 'x', datatype: 'FP32', shape: [3], data: new Float32Array([1, 2.5, -4]) };
try {
  const v1 = await rest.v1Predict('doubler', { instances: [1, 2, 3] });
  const v2 = await rest.infer('doubler', { inputs: [input] });
  const g = await grpc.infer('doubler', { inputs: [input] });
  const out = (r) => ({ name: r.outputs[0].name, type: r.outputs[0].data.constructor.name, data: Array.from(r.outputs[0].data) });
  console.log(JSON.stringify({ v1: v1.predictions, v2: out(v2), grpc: out(g), ready: await grpc.serverReady() }));
} finally {
  rest.close();
  grpc.close();
  await server.stop();
}
`;

const base = mkdtempSync(join(tmpdir(), 'servekit-packed-'));
const tarballs = join(base, 'tarballs');
const app = join(base, 'app');
const running: ChildProcess[] = [];
let packed: PackResult[] = [];

beforeAll(async () => {
  mkdirSync(tarballs);
  mkdirSync(app);
  const { stdout } = await exec(
    'npm',
    ['pack', '--json', '--pack-destination', tarballs, ...WORKSPACES.flatMap((w) => ['--workspace', w])],
    { cwd: ROOT, env: NPM_ENV, maxBuffer: 64 * 1024 * 1024 },
  );
  packed = JSON.parse(stdout) as PackResult[];
  const workspaces: PackedWorkspace[] = WORKSPACES.map((dir) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as PackedWorkspace['manifest'];
    const p = packed.find((r) => r.name === manifest.name);
    if (!p) throw new Error(`npm pack did not pack ${manifest.name}`);
    return { dir, manifest, spec: `file:../tarballs/${p.filename}`, integrity: p.integrity };
  });
  const rootLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const lock = lockForTarballs(rootLock, workspaces, 'servekit-user', NO_REGISTRY);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ ...lock.packages['']!, private: true, type: 'module' }));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));
  writeFileSync(join(app, 'model-server.mjs'), MODEL_SCRIPT);
  await exec('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--onnxruntime-node-install=skip'], {
    cwd: app,
    env: NPM_ENV,
    maxBuffer: 64 * 1024 * 1024,
  });
}, 300_000);

afterAll(() => {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

describe('servekit installed from its npm tarballs', () => {
  it('packs every workspace without tests, build info or maps of tests', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(
      [
        '@servekit/client',
        '@servekit/core',
        '@servekit/onnx',
        '@servekit/sklearn',
        '@servekit/storage',
        '@servekit/tf',
        '@servekit/xgboost',
        'servekit',
      ].sort(),
    );
    for (const p of packed) {
      const paths = p.files.map((f) => f.path);
      expect(paths, p.name).toContain('README.md');
      expect(paths, p.name).toContain('dist/index.js');
      expect(
        paths.filter((f) => /(^|\/)test\/|\.test\.|tsbuildinfo|tsconfig/.test(f)),
        p.name,
      ).toEqual([]);
    }
    const core = packed.find((p) => p.name === '@servekit/core')!;
    expect(core.files.map((f) => f.path)).toContain('proto/grpc_predict_v2.proto');
    const cli = packed.find((p) => p.name === 'servekit')!;
    expect(cli.files.map((f) => f.path)).toContain('bin/servekit.js');
    for (const f of [
      'servekit.js',
      'bundle.json',
      'onnx-session-thread.js',
      'sklearn-load-worker.js',
      'grpc_predict_v2.proto',
    ])
      expect(cli.files.map((f) => f.path)).toContain(`dist/bundle/${f}`);
  });

  it('a custom Model on ModelServer answers REST V1, REST V2 and gRPC V2 through @servekit/client', async () => {
    const { stdout } = await exec(process.execPath, ['model-server.mjs'], { cwd: app, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({
      v1: [2, 4, 6],
      v2: { name: 'doubled', type: 'Float32Array', data: [2, 5, -8] },
      grpc: { name: 'doubled', type: 'Float32Array', data: [2, 5, -8] },
      ready: true,
    });
  });

  /** Start the installed bin on `modelDir` as `name` (imports recorded under `name`); its first "http" log line. */
  async function serveInstalled(modelDir: string, name: string) {
    const args = ['serve', '--model_dir', modelDir, '--model_name', name, '--http_port', '0', '--grpc_port', '0'];
    const proc = spawn(join(app, 'node_modules/.bin/servekit'), [...args, '--host', '127.0.0.1'], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: recordImports(name),
    });
    running.push(proc);
    const out = { proc, addr: undefined as { http: string; grpc: string } | undefined, stderr: '' };
    proc.stderr!.on('data', (d) => (out.stderr += d));
    let buffered = '';
    for await (const chunk of proc.stdout!) {
      buffered += String(chunk);
      const line = buffered.split('\n').find((l) => l.includes('"http"'));
      if (line) {
        out.addr = JSON.parse(line) as { http: string; grpc: string };
        break;
      }
    }
    return out;
  }

  it('the installed `servekit serve` bin serves the churn model.joblib', async () => {
    const expected = JSON.parse(readFileSync(join(FIX, 'sklearn/churn/expected.json'), 'utf8')) as {
      inputs: Record<string, unknown>[];
      predict: number[];
    };
    const { proc, addr, stderr } = await serveInstalled(join(ROOT, 'examples/churn/model'), 'churn');
    const http = addr?.http;
    expect(http, `servekit exited before listening: ${stderr}`).toBeDefined();
    const res = await fetch(`http://${http}/v1/models/churn:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: expected.inputs }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: number[] }).predictions).toEqual(expected.predict);
    proc.kill('SIGTERM');
    const [code] = await once(proc, 'exit');
    expect(code).toBe(0);
    expectBundleRan('churn');
  });

  it('the installed bin serves rf_iris (ONNX, ZipMap) from the bundle: V2 infer, gRPC ServerLive and /metrics', async () => {
    const { proc, addr, stderr } = await serveInstalled(join(FIX, 'onnx/sklearn-onnx-docs/rf_iris'), 'rf_iris');
    expect(addr, `servekit exited before listening: ${stderr}`).toBeDefined();
    const res = await fetch(`http://${addr!.http}/v2/models/rf_iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: { name: string; datatype: string; data: number[] }[] };
    expect(body.outputs.map((o) => [o.name, o.datatype])).toEqual([
      ['output_label', 'INT64'],
      ['output_probability', 'FP32'],
    ]);
    expect(body.outputs[0]!.data).toEqual([0]);
    // ServerLive goes through proto-loader (loaded on that first call, from the bundle's copy of the proto).
    const { stdout: live } = await exec(process.execPath, ['--input-type=module', '-e', GRPC_LIVE_SCRIPT, addr!.grpc], {
      cwd: app,
      timeout: 30_000,
    });
    expect(JSON.parse(live)).toEqual({ live: true });
    const metrics = await (await fetch(`http://${addr!.http}/metrics`)).text();
    expect(metrics).toContain('process_cpu_seconds_total');
    expect(metrics).toContain('request_predict_seconds_count{model_name="rf_iris"} 1');
    proc.kill('SIGTERM');
    const [code] = await once(proc, 'exit');
    expect(code).toBe(0);
    expectBundleRan('rf_iris');
  });
});

/** Asks the gRPC ServerLive of the address in argv[1] through the installed @servekit/client; prints `{ live }`. */
const GRPC_LIVE_SCRIPT = `
import { GrpcClient } from '@servekit/client';
const grpc = new GrpcClient({ address: process.argv[1] });
try {
  console.log(JSON.stringify({ live: await grpc.serverLive() }));
} finally {
  grpc.close();
}
`;

// A module.register resolve hook (passed with NODE_OPTIONS=--import, so worker threads run it too) that appends every
// resolved URL to a file.
const REGISTER = `
import { register } from 'node:module';
const out = process.env.SERVEKIT_TEST_IMPORTS;
const hooks = \`import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(\${JSON.stringify(out)}, r.url + '\\\\n');
  return r;
}\`;
register('data:text/javascript,' + encodeURIComponent(hooks));
`;

/** The environment of a server whose resolved modules are recorded in `<base>/imports-<label>.txt`. */
function recordImports(label: string): NodeJS.ProcessEnv {
  writeFileSync(join(base, 'register.mjs'), REGISTER);
  return {
    ...process.env,
    NODE_OPTIONS: `--import ${join(base, 'register.mjs')}`,
    SERVEKIT_TEST_IMPORTS: join(base, `imports-${label}.txt`),
  };
}

/** The server ran the installed bundle: its entry was loaded and no @servekit/* package's own module was. */
function expectBundleRan(label: string): void {
  const urls = readFileSync(join(base, `imports-${label}.txt`), 'utf8').split('\n');
  expect(urls.filter((u) => u.endsWith('/node_modules/servekit/dist/bundle/servekit.js')).length).toBe(1);
  expect(urls.filter((u) => u.includes('/node_modules/servekit/dist/bin.js'))).toEqual([]);
  expect(urls.filter((u) => u.includes('/node_modules/@servekit/'))).toEqual([]);
}
