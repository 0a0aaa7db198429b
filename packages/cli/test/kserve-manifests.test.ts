// The KServe manifests must use flags, ports and formats the CLI really has (the Dockerfiles: image-root.test.ts).
// Every YAML in examples/kserve is parsed; transformer containers' args, with the ones KServe adds, must parse with
// the real `servekit serve` flag specs, and their --model_module must be a built Transformer the image carries.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type FlagSpec, parseFlags, SERVER_FLAGS } from '@servekit/core';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MODEL_FORMATS, SERVE_FLAGS } from '../src/flags.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const serveSpecs: readonly FlagSpec[] = SERVE_FLAGS;
const serverSpecs: readonly FlagSpec[] = SERVER_FLAGS;
const flagNames = new Set(serveSpecs.map((f) => f.name));
const defaultOf = (name: string) => serverSpecs.find((f) => f.name === name)?.default;

function flagsIn(args: string[]): string[] {
  return args.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]!.replaceAll('-', '_'));
}

interface Runtime {
  kind: string;
  spec: {
    supportedModelFormats: Array<{ name: string }>;
    protocolVersions: string[];
    containers: Array<{
      args: string[];
      ports: Array<{ containerPort: number }>;
      readinessProbe: { httpGet: { path: string; port: number } };
    }>;
  };
}

describe('examples/kserve', () => {
  const runtimes = parseAllDocuments(readFileSync(join(ROOT, 'examples/kserve/servingruntime.yaml'), 'utf8')).map(
    (d) => d.toJSON() as Runtime,
  );

  it('the ServingRuntimes pass only real servekit flags, on the default ports, for formats servekit serves', () => {
    expect(runtimes.map((r) => r.kind)).toEqual(['ClusterServingRuntime', 'ClusterServingRuntime']);
    const formats = new Set<string>(MODEL_FORMATS);
    const served = runtimes.flatMap((r) => r.spec.supportedModelFormats.map((f) => f.name));
    expect(served.sort()).toEqual(['lightgbm', 'onnx', 'sklearn', 'tensorflow', 'xgboost']);
    for (const r of runtimes) {
      for (const f of r.spec.supportedModelFormats) expect(formats.has(f.name), f.name).toBe(true);
      expect(r.spec.protocolVersions).toEqual(['v1', 'v2', 'grpc-v2']);
      const [container] = r.spec.containers;
      for (const flag of flagsIn(container!.args)) expect(flagNames.has(flag), `--${flag}`).toBe(true);
      const port = (flag: string) => Number(container!.args.find((a) => a.startsWith(`--${flag}=`))!.split('=')[1]);
      expect(port('http_port')).toBe(defaultOf('http_port'));
      expect(port('grpc_port')).toBe(defaultOf('grpc_port'));
      expect(container!.ports[0]!.containerPort).toBe(defaultOf('http_port'));
      expect(container!.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: defaultOf('http_port') });
    }
  });

  it('the InferenceServices name a runtime and formats that exist', () => {
    const names = new Set(runtimes.map((r) => (r as unknown as { metadata: { name: string } }).metadata.name));
    for (const file of ['inferenceservice-sklearn.yaml', 'inferenceservice-onnx.yaml']) {
      const isvc = parseAllDocuments(readFileSync(join(ROOT, 'examples/kserve', file), 'utf8'))[0]!.toJSON() as {
        spec: { predictor: { model: { runtime: string; modelFormat: { name: string }; protocolVersion: string } } };
      };
      const model = isvc.spec.predictor.model;
      expect(names.has(model.runtime), file).toBe(true);
      expect(MODEL_FORMATS).toContain(model.modelFormat.name);
      expect(['v1', 'v2', 'grpc-v2']).toContain(model.protocolVersion);
    }
  });
});

interface Container {
  name: string;
  image: string;
  args: string[];
  env?: Array<{ name: string; value: string }>;
  ports: Array<{ containerPort: number; protocol?: string }>;
  readinessProbe?: { httpGet: { path: string; port: number } };
}
interface Isvc {
  kind: string;
  metadata: { name: string };
  spec: {
    predictor: {
      model: {
        runtime: string;
        modelFormat: { name: string };
        protocolVersion: string;
        storageUri: string;
        env?: Array<{ name: string; value: string }>;
        ports?: Array<{ name: string; protocol: string; containerPort: number }>;
      };
    };
    transformer?: { containers: Container[] };
  };
}
interface NamedRuntime {
  kind: string;
  metadata: { name: string };
  spec: {
    supportedModelFormats: Array<{ name: string }>;
    protocolVersions: string[];
    containers: Container[];
  };
}

const KSERVE = join(ROOT, 'examples/kserve');
const yamlFiles = readdirSync(KSERVE).filter((f) => f.endsWith('.yaml'));
const docs = yamlFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(join(KSERVE, file), 'utf8')).map((d) => ({ file, doc: d.toJSON() as Isvc })),
);
const isvcs = docs.filter((d) => d.doc.kind === 'InferenceService');
const namedRuntimes = docs
  .filter((d) => d.doc.kind === 'ClusterServingRuntime')
  .map((d) => d.doc as unknown as NamedRuntime);
/** Every env var a `servekit serve` flag reads. */
const flagEnv = new Set(serveSpecs.flatMap((f) => [`SERVEKIT_${f.name.toUpperCase()}`, ...(f.env ?? [])]));
/** What KServe appends to a transformer container's args (pkg/controller/.../components/transformer.go). */
const kserveTransformerArgs = (isvc: string) => [
  '--model_name',
  isvc,
  '--predictor_host',
  `${isvc}-predictor.default`,
  '--http_port',
  '8080',
];

describe('examples/kserve InferenceServices (every YAML file)', () => {
  it('parses every YAML file into ClusterServingRuntimes and InferenceServices, all in the README', () => {
    expect(yamlFiles.length).toBeGreaterThanOrEqual(5);
    const readme = readFileSync(join(KSERVE, 'README.md'), 'utf8');
    for (const { file, doc } of docs) {
      expect(['ClusterServingRuntime', 'InferenceService'], file).toContain(doc.kind);
      expect(readme, file).toContain(`\`${file}\``);
    }
    const names = isvcs.map((i) => i.doc.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['churn', 'churn-approval', 'clothing', 'iris-onnx']));
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(isvcs.map((i) => [i.doc.metadata.name, i.doc] as const))(
    '%s: the predictor names a runtime serving its format and protocol, a storage URI and real env vars',
    (_name, isvc) => {
      const model = isvc.spec.predictor.model;
      const runtime = namedRuntimes.find((r) => r.metadata.name === model.runtime);
      expect(runtime, model.runtime).toBeDefined();
      expect(MODEL_FORMATS).toContain(model.modelFormat.name);
      expect(runtime!.spec.supportedModelFormats.map((f) => f.name)).toContain(model.modelFormat.name);
      expect(runtime!.spec.protocolVersions).toContain(model.protocolVersion);
      expect(model.storageUri).toMatch(/^(s3|gs|https?|pvc):\/\/[^/]+\//);
      for (const e of model.env ?? []) expect(flagEnv.has(e.name), e.name).toBe(true);
      const port = (flag: string) => defaultOf(flag) as number;
      if (model.protocolVersion === 'grpc-v2') {
        expect(model.ports).toEqual([{ name: 'h2c', protocol: 'TCP', containerPort: port('grpc_port') }]);
      } else expect(model.ports).toBeUndefined();
    },
  );

  const transformers = isvcs.filter((i) => i.doc.spec.transformer);
  it('has the clothing and churn transformers in the same YAML as their predictors', () => {
    expect(transformers.map((t) => t.doc.metadata.name).sort()).toEqual(['churn-approval', 'clothing']);
    const clothing = transformers.find((t) => t.doc.metadata.name === 'clothing')!.doc;
    expect(clothing.spec.predictor.model.modelFormat.name).toBe('tensorflow');
    expect(clothing.spec.predictor.model.protocolVersion).toBe('grpc-v2');
  });

  it.each(transformers.map((i) => [i.doc.metadata.name, i.doc] as const))(
    '%s: the transformer runs the stock image with args the CLI accepts (with those KServe adds)',
    async (name, isvc) => {
      const [container, ...more] = isvc.spec.transformer!.containers;
      expect(more).toEqual([]);
      // The sklearn image: the TF image fixes SERVEKIT_MODEL_FORMAT=tensorflow, which a transformer must not have.
      const servekit = namedRuntimes.find((r) => r.metadata.name === 'servekit')!.spec.containers[0]!;
      expect(container!.image).toBe(servekit.image);
      for (const flag of flagsIn(container!.args)) expect(flagNames.has(flag), `--${flag}`).toBe(true);
      for (const e of container!.env ?? []) expect(flagEnv.has(e.name), e.name).toBe(true);
      const { flags, positionals } = parseFlags([...container!.args, ...kserveTransformerArgs(name)], SERVE_FLAGS, {});
      expect(positionals).toEqual([]);
      expect(flags.predictor_protocol).toBe(isvc.spec.predictor.model.protocolVersion);
      expect(flags.model_name).toBe(name);
      expect(flags.http_port).toBe(defaultOf('http_port'));
      expect(container!.ports).toEqual([{ containerPort: defaultOf('http_port'), protocol: 'TCP' }]);
      expect(container!.readinessProbe!.httpGet).toEqual({ path: '/v2/health/ready', port: defaultOf('http_port') });
      // The module is a built example file (scripts/build-image-root.sh copies examples/*/dist to /opt/servekit).
      const module = String(flags.model_module);
      expect(module).toMatch(/^\/opt\/servekit\/examples\/[^/]+\/dist\/[^/]+\.js$/);
      const local = join(ROOT, module.slice('/opt/servekit/'.length));
      expect(existsSync(local), `${local} (run npx tsc -b)`).toBe(true);
      expect(readFileSync(join(ROOT, 'scripts/build-image-root.sh'), 'utf8')).toContain('examples/*');
      const mod = (await import(pathToFileURL(local).href)) as { default?: unknown };
      const chain: string[] = [];
      for (let p = (mod.default as { prototype?: object } | undefined)?.prototype; p; p = Object.getPrototypeOf(p)) {
        chain.push(p.constructor.name);
      }
      expect(chain, module).toContain('Transformer');
    },
  );
});
