// Start servers for the benchmark as child processes and find their ports from the startup log line.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Spawn `node args…` in the repo root; resolves when its stdout prints a JSON line with `http`. `wrap` prefixes the
 * command (e.g. `memoryCgroup(…).wrap`, which execs node so the pid is still the server's).
 */
export async function startServer(args, env = {}, wrap = []) {
  const t0 = performance.now();
  const command = [...wrap, process.execPath, ...args];
  const proc = spawn(command[0], command.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  // A 'data' listener, not `for await`: leaving a for-await loop destroys the stream, and a caller may keep reading
  // the server's stdout (batchpath.mjs --gc sums its GC trace lines).
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk) => {
      buffered += String(chunk);
      for (const line of buffered.split('\n')) {
        if (!line.includes('"http"')) continue;
        const parsed = JSON.parse(line);
        const [host, port] = parsed.http.split(':');
        const grpcPort = parsed.grpc ? Number(parsed.grpc.split(':')[1]) : undefined;
        proc.stdout.off('data', onData);
        proc.off('exit', onExit);
        proc.stdout.resume();
        resolve({ proc, host, port: Number(port), grpcPort, startupMs: performance.now() - t0 });
        return;
      }
    };
    const onExit = () => reject(new Error(`server exited before listening: ${buffered}`));
    proc.stdout.on('data', onData);
    proc.once('exit', onExit);
  });
}

/** Stop a child process and wait for it. */
export async function stopServer(server) {
  if (server.proc.exitCode !== null) return;
  const exited = new Promise((r) => server.proc.once('exit', r));
  server.proc.kill('SIGTERM');
  await exited;
}

/** argv of `servekit serve ARGS` on free loopback ports (ARGS come last, so they win). */
export function serveArgv(args) {
  return ['packages/cli/dist/bin.js', 'serve', '--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1', ...args];
}

/** `servekit serve` of a model dir on free loopback ports. */
export function serve(modelDir, modelName, extra = []) {
  return startServer(serveArgv(['--model_dir', modelDir, '--model_name', modelName, '--log_level', 'info', ...extra]));
}

/** Run `bench/lib/loadgen.mjs` with `spec` in its own process; resolves with its JSON result. */
export function runLoadgen(spec) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bench/lib/loadgen.mjs'), JSON.stringify(spec)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`loadgen exited ${code}`))));
  });
}

/** Sum and count of the server's `servekit_batch_size` histogram (zeros when /metrics cannot be read). */
export async function batchStats(port) {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sum = Number(/servekit_batch_size_sum\{[^}]*\} ([\d.e+]+)/.exec(text)?.[1] ?? 0);
    const count = Number(/servekit_batch_size_count\{[^}]*\} ([\d.e+]+)/.exec(text)?.[1] ?? 0);
    return { sum, count };
  } catch {
    return { sum: 0, count: 0 };
  }
}
