import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Start the example as the README shows (built JS), on free ports; resolves with its HTTP base URL. */
async function startExample(): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(
    process.execPath,
    [
      'examples/custom-model/dist/main.js',
      '--model_dir',
      'examples/custom-model/model',
      '--model_name',
      'iris',
      '--http_port',
      '0',
      '--grpc_port',
      '0',
      '--host',
      '127.0.0.1',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let buffered = '';
  for await (const chunk of proc.stdout!) {
    buffered += String(chunk);
    const line = buffered.split('\n').find((l) => l.includes('"http"'));
    if (line) {
      const { http } = JSON.parse(line) as { http: string };
      return { proc, base: `http://${http}` };
    }
  }
  throw new Error(`example exited before listening: ${buffered}`);
}

describe('examples/custom-model', () => {
  let proc: ChildProcess;
  let base: string;
  beforeAll(async () => {
    ({ proc, base } = await startExample());
  });
  afterAll(async () => {
    proc.kill('SIGTERM');
    const [code] = await once(proc, 'exit');
    expect(code).toBe(0);
  });

  it('answers the README V1 request with class names', async () => {
    const res = await fetch(`${base}/v1/models/iris:predict`, {
      method: 'POST',
      body: JSON.stringify({
        instances: [
          [5.1, 3.5, 1.4, 0.2],
          [6.7, 3.0, 5.2, 2.3],
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ predictions: ['setosa', 'virginica'] });
  });

  it('answers the README V2 request with typed outputs', async () => {
    const res = await fetch(`${base}/v2/models/iris/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [5.9, 3.0, 4.2, 1.5] }],
      }),
    });
    const body = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
    expect(res.status).toBe(200);
    expect(body.outputs[0]).toMatchObject({ name: 'class', datatype: 'INT64', shape: [1], data: [1] });
    expect(body.outputs[1]!.data).toHaveLength(3);
  });

  it('rejects a wrong feature count with a 400 naming the input', async () => {
    const res = await fetch(`${base}/v2/models/iris/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain('input-0');
  });
});
