// Bundles the built CLI (dist/bin.js, after `tsc -b`) with esbuild into dist/bundle/: servekit.js, the start-up code
// of `servekit serve` in one ESM file (no module resolution, one compile at start), chunks for what loads lazily
// (convert, the sklearn/tf/xgboost formats, storage, the client, swagger, tracing, auth, payload logging), and each
// worker thread's script as its own entry. bin/servekit.js runs it when present. Run by `npm run bundle` (after
// `tsc -b`) and by `npm pack` (prepack).
//
// Left outside the bundle, loaded from node_modules at run time: onnxruntime-node (a native addon), and third-party
// packages only the optional features import (the OpenTelemetry SDK, jose, the AWS/GCS SDKs, TensorFlow.js, swagger's UI
// assets). The @servekit/* packages are all bundled, so one copy of core's classes is shared by every chunk.
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CLI = fileURLToPath(new URL('..', import.meta.url));
const FINAL = join(CLI, 'dist/bundle');
// Built beside it and renamed into place at the end, so a `servekit` started meanwhile (tests run in parallel with
// `npm pack`'s prepack) sees the old bundle, none (then dist/bin.js runs), or the new one, never half of one.
const OUT = join(CLI, `dist/bundle-${process.pid}.tmp`);
const PACKAGES = join(CLI, '..');

/** Third-party packages imported only by optional features or native: resolved from node_modules at run time. */
const EXTERNAL = [
  'onnxruntime-node',
  'onnxruntime-common',
  // The tracing feature's SDK. @opentelemetry/api itself is bundled: prom-client's default metrics require it at
  // start, and its copies (the bundle's, the SDK's in node_modules) share one global registration by design.
  '@opentelemetry/core',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/semantic-conventions',
  'jose',
  '@aws-sdk/*',
  '@smithy/*',
  '@tensorflow/*',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  // Optional peer of pino/thread-stream, never used by servekit's logger.
  'pino-pretty',
  // Required inside functions only (servekit's gRPC service on its first non-ModelInfer call; grpc-js's channelz and
  // ORCA, which servekit does not use): bundled, it and protobufjs would be parsed at every start for nothing.
  '@grpc/proto-loader',
];

// `builtWorkerUrl(import.meta.url, 'file.js', '@servekit/pkg')`: a worker script beside its module. In the bundle
// each one is an entry point named `pkg-file.js` (sklearn and xgboost both have a load-worker.js), and the call is
// rewritten to that name, which sits beside every chunk.
const WORKER_CALL = /builtWorkerUrl\(import\.meta\.url, '([\w-]+\.js)', '@servekit\/([\w-]+)'\)/g;
// `new URL('../x/y.proto', import.meta.url)`: a file shipped in its package, copied beside the chunks.
const ASSET_URL = /new URL\('((?:\.\.?\/)+[\w/-]+\.proto)', import\.meta\.url\)/g;

/** Every dist/*.js file of the workspace packages that names a worker script or an asset beside itself. */
function relocations() {
  const workers = new Map();
  const assets = new Map();
  for (const pkg of readdirSync(PACKAGES)) {
    const dist = join(PACKAGES, pkg, 'dist');
    let files;
    try {
      files = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.js') && !f.startsWith('bundle'));
    } catch {
      continue;
    }
    for (const f of files) {
      const path = join(dist, f);
      const text = readFileSync(path, 'utf8');
      for (const [, file, owner] of text.matchAll(WORKER_CALL)) {
        workers.set(`${owner}-${file.replace(/\.js$/, '')}`, join(PACKAGES, owner, 'dist', file));
      }
      for (const [, rel] of text.matchAll(ASSET_URL)) assets.set(basename(rel), join(dirname(path), rel));
    }
  }
  return { workers, assets };
}

/** esbuild plugin: rewrites the worker-script and asset URLs of workspace modules to their place in the bundle. */
const relocate = {
  name: 'servekit-relocate',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/][\w-]+[\\/]dist[\\/].*\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const contents = text
        .replace(
          WORKER_CALL,
          (_m, file, owner) => `builtWorkerUrl(import.meta.url, '${owner}-${file}', '@servekit/${owner}')`,
        )
        .replace(ASSET_URL, (_m, rel) => `new URL('./${basename(rel)}', import.meta.url)`);
      return { contents, loader: 'js' };
    });
  },
};

const { workers, assets } = relocations();
rmSync(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: [
    { in: join(CLI, 'dist/bin.js'), out: 'servekit' },
    ...[...workers].map(([out, path]) => ({ in: path, out })),
  ],
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  external: EXTERNAL,
  // CommonJS dependencies call require() for Node built-ins and for the externals above.
  banner: {
    js: "import { createRequire as __servekitRequire } from 'node:module';\nconst require = __servekitRequire(import.meta.url);",
  },
  plugins: [relocate],
  legalComments: 'linked',
  // whitespace and syntax only: names stay, so stack traces stay readable; 3.5 → 2.3 MB, about 3–5 % less CPU to start
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: true,
}).catch((err) => {
  rmSync(OUT, { recursive: true, force: true });
  throw err;
});
for (const [name, path] of assets) copyFileSync(path, join(OUT, name));

// What bin/servekit.js checks in a source checkout: the bundle is used only when no workspace package was rebuilt
// after it (a `tsc -b` without `npm run bundle` leaves it stale; then bin runs dist/bin.js).
const inputs = Object.keys(result.metafile.inputs);
const hash = createHash('sha256');
for (const f of readdirSync(OUT).sort()) hash.update(f).update(readFileSync(join(OUT, f)));
writeFileSync(
  join(OUT, 'bundle.json'),
  `${JSON.stringify({ hash: hash.digest('hex').slice(0, 16), modules: inputs.length }, null, 2)}\n`,
);
// On stderr: `npm pack --json` runs this as prepack and its stdout must stay the JSON.
const size = readdirSync(OUT).reduce((n, f) => n + readFileSync(join(OUT, f)).length, 0);
const files = readdirSync(OUT).length;
rmSync(join(FINAL, 'bundle.json'), { force: true });
rmSync(FINAL, { recursive: true, force: true });
renameSync(OUT, FINAL);
process.stderr.write(
  `bundled ${inputs.length} modules into ${relative(process.cwd(), FINAL)} (${files} files, ${(size / 1024).toFixed(0)} KiB)\n`,
);
