// Helpers that run the real `servekit` binary (packages/cli/dist/bin.js, built by `tsc -b`) on loopback ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The shared model fixtures. */
export const FIX = join(ROOT, '../shared/fixtures');
/** The built CLI. */
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');

/** A running `servekit serve`. */
export interface Running {
  /** The process. */
  proc: ChildProcess;
  /** `http://127.0.0.1:PORT`. */
  base: string;
  /** `127.0.0.1:PORT` of gRPC. */
  grpc: string;
  /** `http://127.0.0.1:PORT` of the health port, when `--health_port` is given. */
  health?: string;
  /** stdout lines so far. */
  log: string[];
}

const started: ChildProcess[] = [];

/**
 * Start `servekit serve` on free loopback ports; resolves once it logs that its models are loaded and where it
 * serves (the line with an `"http"` key), or with `until: 'listening'` as soon as it listens, before the models load
 * (the line with `"http_address"`). Tests stop servers with SIGTERM: the drain delay is 0 unless `env` (or an
 * argument) sets one.
 */
export async function serve(
  args: string[],
  env: Record<string, string> = {},
  bin = BIN,
  until: 'serving' | 'listening' = 'serving',
): Promise<Running> {
  const proc = spawn(
    process.execPath,
    [bin, 'serve', '--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, SERVEKIT_DRAIN_DELAY_SECONDS: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  started.push(proc);
  const log: string[] = [];
  let buffered = '';
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  // Keep reading stdout for the whole life of the process: a child whose stdout pipe is closed or full blocks on its
  // next log line (e.g. during shutdown).
  return new Promise<Running>((resolve, reject) => {
    let listening = false;
    proc.stdout!.on('data', (chunk) => {
      if (listening) {
        log.push(String(chunk));
        return;
      }
      buffered += String(chunk);
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        log.push(line);
        if (!listening && until === 'serving' && line.includes('"http"')) {
          listening = true;
          const { http, grpc, health } = JSON.parse(line) as { http: string; grpc: string; health?: string };
          resolve({ proc, base: `http://${http}`, grpc, log, ...(health ? { health: `http://${health}` } : {}) });
        }
        if (!listening && until === 'listening' && line.includes('"http_address"')) {
          listening = true;
          const at = JSON.parse(line) as { http_address: string; grpc_address: string; health_address?: string };
          const health = at.health_address;
          resolve({
            proc,
            base: `http://${at.http_address}`,
            grpc: at.grpc_address,
            log,
            ...(health ? { health: `http://${health}` } : {}),
          });
        }
      }
    });
    proc.once('exit', () => {
      if (!listening) reject(new Error(`servekit exited before listening: ${stderr}${buffered}`));
    });
  });
}

/** SIGTERM the server; resolves with its exit code. */
export async function stop(r: Running): Promise<number | null> {
  if (r.proc.exitCode !== null) return r.proc.exitCode;
  r.proc.kill('SIGTERM');
  const [code] = await once(r.proc, 'exit');
  return code as number | null;
}

/** Run `servekit ARGS` to completion; resolves with the exit code and output. */
export async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(proc, 'exit');
  return { code: code as number | null, stdout, stderr };
}

/** Kill whatever a test file left running. */
export function killAll(): void {
  for (const p of started) if (p.exitCode === null) p.kill('SIGKILL');
}

/** POST JSON; resolves with the status and parsed body. */
export async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
