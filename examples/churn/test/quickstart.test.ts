// The README's first commands: `npm ci && npm start` serves examples/churn/model as `churn` on 8080/8081, and the
// curl under it answers what the README says (and what scikit-learn says). Runs the real `npm start` (npm → tsc -b →
// servekit) with free ports appended, in its own process group. Also the custom-model example's start command.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, expectFixtureAnswer } from './fixture.js';
import { ReadmeRunner, ROOT, readmeCommands } from './readme.js';

const FREE_PORTS = '--http_port 0 --grpc_port 0 --host 127.0.0.1';
const pkg = (path: string) =>
  JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as { scripts: Record<string, string | undefined> };

describe('README "The two commands"', () => {
  const runner = new ReadmeRunner();
  afterAll(() => runner.killAll());
  const commands = readmeCommands('README.md').filter((c) => c.section === 'The two commands');

  it('are npm ci && npm start, a curl, and npm ci && npm test', () => {
    expect(commands).toHaveLength(3);
    expect(commands[1]!.text).toMatch(/^curl -s localhost:8080\/v1\/models\/churn:predict -d '\{"instances": \[\{/);
    expect(commands[0]!.text).toBe('npm ci && npm start');
    expect(commands[2]!.text).toBe('npm ci && npm test');
    expect(pkg('package.json').scripts.start).toBe(
      'tsc -b && node packages/cli/dist/bin.js serve --model_dir examples/churn/model --model_name churn --http_port 8080 --grpc_port 8081',
    );
  });

  it('npm start serves the churn model and the README curl gets the answer it shows', async () => {
    const server = await runner.start(`exec npm start --silent -- ${FREE_PORTS}`, {}, true);
    runner.ports.set(8080, Number(server.base.split(':').pop()));
    const curls = commands.filter((c) => c.text.startsWith('curl '));
    expect(curls).toHaveLength(1);
    for (const curl of curls) {
      const { code, stdout, stderr } = await runner.run(curl);
      expect(code, stderr).toBe(0);
      expectClose(JSON.parse(stdout), JSON.parse(curl.expected!));
      expectFixtureAnswer(JSON.parse(curl.expected!));
    }
    const models = (await (await fetch(`${server.base}/v1/models`)).json()) as { models: string[] };
    expect(models).toEqual({ models: ['churn'] });
    await runner.stop(server);
    await expect(fetch(`${server.base}/v2/health/live`)).rejects.toThrow();
  });

  it('the custom-model example still starts with the command its README gives', async () => {
    const readme = readmeCommands('examples/custom-model/README.md');
    expect(readme[0]!.text).toBe('npm ci && npx tsc -b && npm start -w examples/custom-model');
    expect(pkg('examples/custom-model/package.json').scripts.start).toBeDefined();
    const server = await runner.start(`exec npm start --silent -w examples/custom-model -- ${FREE_PORTS}`, {}, true);
    const res = await fetch(`${server.base}/v1/models/iris:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] }),
    });
    expect(await res.json()).toEqual({ predictions: ['setosa'] });
    await runner.stop(server);
  });
});
