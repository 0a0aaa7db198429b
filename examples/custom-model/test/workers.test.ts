import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('--workers', () => {
  it('serves from several processes on one port and /metrics aggregates every worker', async () => {
    const proc = spawn(
      process.execPath,
      [
        'examples/custom-model/dist/main.js',
        '--model_dir',
        'examples/custom-model/model',
        '--workers',
        '2',
        '--http_port',
        '0',
        '--enable_grpc',
        'false',
        '--host',
        '127.0.0.1',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      // Each worker logs its own startup line; port 0 is shared by the cluster, so both report the same port.
      const lines: string[] = [];
      let buffered = '';
      for await (const chunk of proc.stdout!) {
        buffered += String(chunk);
        const parts = buffered.split('\n');
        buffered = parts.pop()!;
        lines.push(...parts.filter((l) => l.includes('"http"')));
        if (lines.length >= 2) break;
      }
      const pids = new Set(lines.map((l) => (JSON.parse(l) as { pid: number }).pid));
      expect(pids.size).toBe(2);
      const base = `http://${(JSON.parse(lines[0]!) as { http: string }).http}`;
      const body = JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] });
      const answers = await Promise.all(
        Array.from({ length: 40 }, () =>
          fetch(`${base}/v1/models/iris:predict`, { method: 'POST', body, headers: { connection: 'close' } }).then(
            (r) => r.json(),
          ),
        ),
      );
      expect(answers.every((a) => JSON.stringify(a) === '{"predictions":["setosa"]}')).toBe(true);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const count = /servekit_requests_total\{[^}]*model_name="iris"[^}]*\} (\d+)/.exec(metrics);
      expect(Number(count?.[1])).toBe(40); // summed over both workers
    } finally {
      proc.kill('SIGTERM');
      const [code] = await once(proc, 'exit');
      expect(code).toBe(0);
    }
  });
});
