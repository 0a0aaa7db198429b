// The KServe manifests must use flags, ports and formats the CLI really has (the Dockerfiles: image-root.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_FLAGS } from '@servekit/core';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MODEL_FORMATS, SERVE_FLAGS } from '../src/flags.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const flagNames = new Set(SERVE_FLAGS.map((f) => f.name));
const defaultOf = (name: string) => SERVER_FLAGS.find((f) => f.name === name)?.default;

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
