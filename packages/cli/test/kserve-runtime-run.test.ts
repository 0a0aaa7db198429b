// The servekit ClusterServingRuntime's container args, run for real: KServe substitutes {{.Name}} and mounts the
// model at /mnt/models; here the args start the CLI (ports moved to free loopback ones) and the InferenceService's
// protocol answers. Also: grpc-v2 InferenceServices route Knative's single port (h2c) to --grpc_port, and the
// onnxruntime thread flag fits the container's CPU limit.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GrpcClient } from '@servekit/client';
import { type FlagSpec, SERVER_FLAGS } from '@servekit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIX = join(ROOT, '../shared/fixtures/onnx');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const KSERVE = join(ROOT, 'examples/kserve');

interface Container {
  args: string[];
  ports: Array<{ containerPort: number }>;
  resources?: { limits?: { cpu?: string } };
}
interface Runtime {
  metadata: { name: string };
  spec: { containers: Container[] };
}
interface Isvc {
  metadata: { name: string };
  spec: {
    predictor: {
      model: {
        runtime: string;
        protocolVersion: string;
        ports?: Array<{ name: string; protocol?: string; containerPort: number }>;
      };
    };
  };
}

const yamlDocs = <T>(file: string): T[] =>
  parseAllDocuments(readFileSync(join(KSERVE, file), 'utf8')).map((d) => d.toJSON() as T);
const runtimes = yamlDocs<Runtime>('servingruntime.yaml');
const isvcs = ['inferenceservice-sklearn.yaml', 'inferenceservice-onnx.yaml'].flatMap((f) => yamlDocs<Isvc>(f));
const serverSpecs: readonly FlagSpec[] = SERVER_FLAGS;
const defaultPort = (name: string) => serverSpecs.find((f) => f.name === name)!.default as number;
const arg = (args: string[], flag: string) => args.find((a) => a.startsWith(`--${flag}=`))?.split('=')[1];

/** Kubernetes CPU quantity in cores: "2", "1.5", "500m". */
function cores(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

describe('examples/kserve InferenceServices and runtime resources', () => {
  it('routes grpc-v2 InferenceServices to --grpc_port through a port named h2c, others to the HTTP port', () => {
    expect(isvcs.some((i) => i.spec.predictor.model.protocolVersion === 'grpc-v2')).toBe(true);
    for (const isvc of isvcs) {
      const model = isvc.spec.predictor.model;
      const runtime = runtimes.find((r) => r.metadata.name === model.runtime)!;
      const args = runtime.spec.containers[0]!.args;
      if (model.protocolVersion === 'grpc-v2') {
        expect(model.ports, isvc.metadata.name).toEqual([
          { name: 'h2c', protocol: 'TCP', containerPort: Number(arg(args, 'grpc_port') ?? defaultPort('grpc_port')) },
        ]);
      } else {
        expect(model.ports, isvc.metadata.name).toBeUndefined();
        expect(runtime.spec.containers[0]!.ports[0]!.containerPort).toBe(
          Number(arg(args, 'http_port') ?? defaultPort('http_port')),
        );
      }
    }
  });

  it('sets onnxruntime intra-op threads no higher than the container CPU limit', () => {
    const servekit = runtimes.find((r) => r.metadata.name === 'servekit')!.spec.containers[0]!;
    const threads = Number(arg(servekit.args, 'intra_op_threads'));
    expect(Number.isInteger(threads) && threads > 0).toBe(true);
    expect(threads).toBeLessThanOrEqual(cores(servekit.resources!.limits!.cpu!));
  });
});

describe('the servekit runtime args start a real server', () => {
  let proc: ChildProcess | undefined;
  afterAll(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  });

  it('serves the onnx InferenceService model with exactly the runtime args, answering over gRPC V2', async () => {
    const isvc = isvcs.find((i) => i.spec.predictor.model.protocolVersion === 'grpc-v2')!;
    const runtime = runtimes.find((r) => r.metadata.name === isvc.spec.predictor.model.runtime)!;
    const modelDir = join(FIX, 'sklearn-onnx-docs/logreg_iris'); // what the storage initializer would mount
    const args = runtime.spec.containers[0]!.args.map((a) =>
      a
        .replace('{{.Name}}', isvc.metadata.name)
        .replace('=/mnt/models', `=${modelDir}`)
        .replace(/^--(http|grpc)_port=\d+$/, '--$1_port=0'),
    );
    proc = spawn(process.execPath, [BIN, 'serve', ...args, '--host', '127.0.0.1'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    let grpcAddress: string | undefined;
    let buffered = '';
    for await (const chunk of proc.stdout!) {
      buffered += String(chunk);
      const line = buffered.split('\n').find((l) => l.includes('"grpc"'));
      if (line) {
        grpcAddress = (JSON.parse(line) as { grpc: string }).grpc;
        proc.stdout!.resume();
        break;
      }
    }
    expect(grpcAddress, stderr).toBeDefined();
    const client = new GrpcClient({ address: grpcAddress! });
    try {
      expect(await client.modelReady(isvc.metadata.name)).toBe(true);
      const res = await client.infer(isvc.metadata.name, {
        inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([5.1, 3.5, 7.0, 3.2]) }],
      });
      const label = res.outputs.find((o) => o.name === 'output_label')!;
      expect(Array.from(label.data as BigInt64Array, Number)).toEqual([0, 2]);
    } finally {
      client.close();
    }
    proc.kill('SIGTERM');
    const [code] = await once(proc, 'exit');
    expect(code).toBe(0);
  });
});
