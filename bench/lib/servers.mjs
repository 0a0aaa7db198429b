// Start servers for the benchmark as child processes and find their ports from the startup log line.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Spawn `node args…` in the repo root; resolves when its stdout prints a JSON line with `http`. */
export async function startServer(args, env = {}) {
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let buffered = '';
  for await (const chunk of proc.stdout) {
    buffered += String(chunk);
    for (const line of buffered.split('\n')) {
      if (!line.includes('"http"')) continue;
      const parsed = JSON.parse(line);
      const [host, port] = parsed.http.split(':');
      const grpcPort = parsed.grpc ? Number(parsed.grpc.split(':')[1]) : undefined;
      proc.stdout.resume();
      return { proc, host, port: Number(port), grpcPort, startupMs: performance.now() - t0 };
    }
  }
  throw new Error(`server exited before listening: ${buffered}`);
}

/** Stop a child process and wait for it. */
export async function stopServer(server) {
  if (server.proc.exitCode !== null) return;
  const exited = new Promise((r) => server.proc.once('exit', r));
  server.proc.kill('SIGTERM');
  await exited;
}

/** `servekit serve` on free loopback ports. */
export function serve(modelDir, modelName, extra = []) {
  return startServer([
    'packages/cli/dist/bin.js',
    'serve',
    '--model_dir',
    modelDir,
    '--model_name',
    modelName,
    '--http_port',
    '0',
    '--grpc_port',
    '0',
    '--host',
    '127.0.0.1',
    '--log_level',
    'info',
    ...extra,
  ]);
}
