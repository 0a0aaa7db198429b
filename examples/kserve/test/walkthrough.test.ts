// examples/kserve/README.md, played on loopback: each `kubectl apply -f X.yaml` starts X's containers the way KServe
// would (the ServingRuntime's args with {{.Name}} filled in and the model where /mnt/models would be; the transformer's
// args plus the --model_name/--predictor_host/--http_port KServe adds), a node:http "ingress" routes by Host header
// like Istio/Knative, and the README's curl commands run as written with INGRESS_HOST/INGRESS_PORT/SERVICE_HOSTNAME
// set. Their answers must equal the README's comments (and scikit-learn's, for churn).
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startServer, type TestServer } from '../../../packages/storage/test/helpers/servers.js';
import { expectClose, expectFixtureAnswer } from '../../churn/test/fixture.js';
import { ReadmeRunner, type ReadmeServer, ROOT, readmeCommands, type ShellCommand } from '../../churn/test/readme.js';
import { CLASSES } from '../../clothing/src/classes.js';

interface Container {
  args: string[];
}
interface Isvc {
  kind: string;
  metadata: { name: string };
  spec: {
    predictor: { model: { runtime: string; protocolVersion: string; env?: Array<{ name: string; value: string }> } };
    transformer?: { containers: Container[] };
  };
}
interface Runtime {
  metadata: { name: string };
  spec: { containers: Container[] };
}

const KSERVE = join(ROOT, 'examples/kserve');
const yamlDocs = <T>(file: string): T[] =>
  parseAllDocuments(readFileSync(join(KSERVE, file), 'utf8')).map((d) => d.toJSON() as T);
const runtimes = yamlDocs<Runtime>('servingruntime.yaml');
/** What the storage initializer would put in /mnt/models, per InferenceService. */
const MODEL_DIRS: Record<string, string> = {
  churn: 'examples/churn/model',
  'churn-approval': 'examples/churn/model',
  clothing: 'examples/clothing/model',
};
const CLI = 'node packages/cli/dist/bin.js serve';
const PANTS = 'http://bit.ly/mlbookcamp-pants';

describe('examples/kserve/README.md walkthrough on loopback', () => {
  const runner = new ReadmeRunner();
  const entry = new Map<string, ReadmeServer>(); // service host name → the container the ingress routes to
  const env: Record<string, string> = {};
  let ingress: Server;
  let images: TestServer;

  beforeAll(async () => {
    ingress = createServer((req, res) => {
      const target = entry.get(String(req.headers.host).split(':')[0]!);
      if (!target) return void res.writeHead(404).end(`no service ${req.headers.host}`);
      const url = new URL(req.url ?? '/', target.base);
      const upstream = request(url, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', (err) => res.writeHead(502).end(err.message));
      req.pipe(upstream);
    });
    await new Promise<void>((r) => ingress.listen(0, '127.0.0.1', r));
    env.INGRESS_HOST = '127.0.0.1';
    env.INGRESS_PORT = String((ingress.address() as { port: number }).port);
    const jpeg = readFileSync(join(ROOT, 'examples/clothing/images/sample.jpg'));
    images = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg));
  });
  afterAll(async () => {
    runner.killAll();
    ingress?.closeAllConnections();
    await new Promise<void>((r) => (ingress ? ingress.close(() => r()) : r()));
    await images?.close();
  });

  /** `kubectl apply -f FILE`: start its predictor (runtime args) and transformer (its args + KServe's). */
  async function apply(file: string): Promise<void> {
    for (const isvc of yamlDocs<Isvc>(file.replace('examples/kserve/', ''))) {
      const name = isvc.metadata.name;
      const model = isvc.spec.predictor.model;
      const runtime = runtimes.find((r) => r.metadata.name === model.runtime)!;
      const args = runtime.spec.containers[0]!.args.map((a) =>
        a.replace('{{.Name}}', name).replace('=/mnt/models', `=${MODEL_DIRS[name]}`),
      );
      const modelEnv = Object.fromEntries((model.env ?? []).map((e) => [e.name, e.value]));
      const predictor = await runner.serve(`${CLI} ${args.join(' ')}`, modelEnv);
      let front = predictor;
      const transformer = isvc.spec.transformer?.containers[0];
      if (transformer) {
        const host = model.protocolVersion === 'grpc-v2' ? predictor.grpc : predictor.base.replace('http://', '');
        const targs = transformer.args.map((a) => a.replace('/opt/servekit/', ''));
        front = await runner.serve(`${CLI} ${targs.join(' ')} --model_name ${name} --predictor_host ${host}`);
      }
      entry.set(`${name}.default.example.com`, front);
    }
  }

  async function play(cmd: ShellCommand): Promise<void> {
    const t = cmd.text;
    const applied = /^kubectl apply -f (\S+)$/.exec(t);
    const waited = /^kubectl wait --for=condition=Ready inferenceservice\/(\S+)$/.exec(t);
    const host = /^SERVICE_HOSTNAME=\$\(kubectl get inferenceservice (\S+) -o jsonpath='\{\.status\.url\}'/.exec(t);
    if (applied) await apply(applied[1]!);
    else if (waited) {
      const res = await fetch(`${entry.get(`${waited[1]}.default.example.com`)!.base}/v2/health/ready`);
      expect(res.status, waited[1]).toBe(200);
    } else if (host) {
      env.SERVICE_HOSTNAME = `${host[1]}.default.example.com`; // status.url is http://NAME.NAMESPACE.DOMAIN
    } else if (t.startsWith('curl ')) {
      const { code, stdout, stderr } = await runner.run(t.replace(PANTS, `${images.url}/pants.jpg`), env);
      expect(code, stderr).toBe(0);
      const body = JSON.parse(stdout) as { predictions: unknown[] };
      if (cmd.expected) {
        expectClose(body, JSON.parse(cmd.expected));
        expectFixtureAnswer(body);
      } else {
        // clothing: one {class: score} per image, the 10 classes, highest first
        const [scores] = body.predictions as Array<Record<string, number>>;
        expect(Object.keys(scores!).sort(), stdout).toEqual([...CLASSES].sort());
        const values = Object.values(scores!);
        expect([...values].sort((a, b) => b - a)).toEqual(values);
      }
    } else throw new Error(`README command the test does not know how to run: ${t}`);
  }

  const commands = readmeCommands('examples/kserve/README.md');
  const sections = [...new Set(commands.map((c) => c.section))];

  it('has a curl for each InferenceService of the walkthrough', () => {
    const hosts = commands.filter((c) => c.text.startsWith('SERVICE_HOSTNAME=')).map((c) => c.text.split(' ')[3]);
    expect(hosts).toEqual(['churn', 'churn-approval', 'clothing']);
    expect(
      commands.filter((c) => c.text.startsWith('curl ')).every((c) => c.text.includes(`"Host: \${SERVICE_HOSTNAME}"`)),
    ).toBe(true);
  });

  it.each(sections)('runs section "%s" as written', async (section) => {
    for (const cmd of commands.filter((c) => c.section === section)) await play(cmd);
  });
});
