// Runs a README's shell blocks as written: long-running `servekit serve` commands become real processes on free
// loopback ports (the README's ports are mapped onto them), and every other command (curl...) runs in bash with
// those ports substituted. Used by the examples' README tests (churn, kserve) and the root README test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One command of a README shell block. */
export interface ShellCommand {
  /** The command as written (continuation lines and multi-line quotes included), without a trailing comment. */
  text: string;
  /** The `# ...` comment line right after it: the output the README promises. */
  expected?: string;
  /** The heading the block is under. */
  section: string;
}

/** Index just past the command text of `s` starting at 0: the end, or an unquoted `#` comment. */
function scan(s: string): { end: number; open: boolean; continued: boolean } {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]!))) return { end: i, open: false, continued: false };
  }
  return { end: s.length, open: quote !== undefined, continued: quote === undefined && /\\\s*$/.test(s) };
}

/** Every command of every ```sh block in `markdown`, with the comment line promising its output. */
export function shellCommands(markdown: string): ShellCommand[] {
  const out: ShellCommand[] = [];
  let section = '';
  let inBlock = false;
  let pending = '';
  for (const line of markdown.split('\n')) {
    if (!inBlock) {
      if (/^#{1,6} /.test(line)) section = line.replace(/^#+ /, '').trim();
      if (/^```(sh|bash|shell)\s*$/.test(line)) inBlock = true;
      continue;
    }
    if (line.startsWith('```')) {
      inBlock = false;
      pending = '';
      continue;
    }
    const text = pending ? `${pending}\n${line}` : line;
    const { end, open, continued } = scan(text);
    if (open || continued) {
      pending = text;
      continue;
    }
    pending = '';
    const command = text.slice(0, end).trimEnd();
    if (command.trim() === '') {
      const comment = text.slice(end).replace(/^#\s?/, '');
      const last = out[out.length - 1];
      if (comment && last && last.expected === undefined && last.section === section) last.expected = comment;
      continue;
    }
    out.push({ text: command.trim(), section });
  }
  return out;
}

/** The shell commands of a README file, by path relative to the repository root. */
export function readmeCommands(path: string): ShellCommand[] {
  return shellCommands(readFileSync(join(ROOT, path), 'utf8'));
}

/** Whether `python3` runs here (README commands use `python3 -m http.server`). */
export const hasPython = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A node:http stand-in for `python3 -m http.server` serving the files of `dir` (same 404 reason phrase). */
export async function fileServer(dir: string, port: number): Promise<Server> {
  const server = createHttpServer((req, res) => {
    const path = join(dir, basename(req.url ?? '/'));
    if (!existsSync(path) || !statSync(path).isFile()) return void res.writeHead(404, 'File not found').end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(path).size });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

/** A free TCP port on 127.0.0.1 (for programs that cannot be told to pick one, e.g. python's http.server). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A server process started from a README command. */
export interface ReadmeServer {
  /** The process (bash exec'd into it, or its own process group with `group`). */
  proc: ChildProcess;
  /** `http://127.0.0.1:PORT`. */
  base: string;
  /** `127.0.0.1:PORT` of gRPC. */
  grpc: string;
  /** stdout and stderr so far. */
  output: () => string;
}

const ENV_WORD = /^[A-Za-z_][A-Za-z0-9_]*=\S*$/;

/** Value of `--flag N` / `--flag=N` in a command, if present. */
function flagValue(text: string, flag: string): string | undefined {
  return new RegExp(`--${flag}[= ]+(\\S+)`).exec(text)?.[1];
}

/**
 * Runs README commands for real. `ports` maps the README's ports (8080, 8082, 9000...) to the ones the processes
 * really got; `sub` rewrites `localhost:P` / `127.0.0.1:P` and `--x_port P` accordingly.
 */
export class ReadmeRunner {
  /** README port → real port. */
  readonly ports = new Map<number, number>();
  private readonly procs: Array<{ proc: ChildProcess; group: boolean }> = [];

  /** `text` with every mapped `host:port` pointing at 127.0.0.1 and its real port. */
  sub(text: string): string {
    return text.replace(/\b(localhost|127\.0\.0\.1):(\d+)\b/g, (all, _host: string, p: string) => {
      const real = this.ports.get(Number(p));
      return real === undefined ? all : `127.0.0.1:${real}`;
    });
  }

  /**
   * Start a README `servekit serve` command (leading `VAR=value` words kept as its environment) on free ports:
   * `--http_port 0 --grpc_port 0 --host 127.0.0.1` are appended (the last flag wins). Resolves once it logs where it
   * listens, and maps the README's --http_port/--grpc_port (default 8080/8081) onto the real ones.
   */
  async serve(cmd: ShellCommand | string, env: Record<string, string> = {}): Promise<ReadmeServer> {
    const text = typeof cmd === 'string' ? cmd : cmd.text;
    const words = text.split(/\s+/);
    let i = 0;
    while (i < words.length && ENV_WORD.test(words[i]!)) i++;
    const assignments = words.slice(0, i).join(' ');
    const rest = text.slice(text.indexOf(words[i]!, assignments.length));
    const line = `${this.sub(assignments)} exec ${this.sub(rest)} --http_port 0 --grpc_port 0 --host 127.0.0.1`;
    const server = await this.start(line, env, false);
    this.ports.set(Number(flagValue(text, 'http_port') ?? 8080), Number(server.base.split(':').pop()));
    this.ports.set(Number(flagValue(text, 'grpc_port') ?? 8081), Number(server.grpc.split(':').pop()));
    return server;
  }

  /** Start `bash -c line` and wait for servekit's "listening" log line. */
  async start(line: string, env: Record<string, string>, group: boolean): Promise<ReadmeServer> {
    const proc = spawn('bash', ['-c', line], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: group,
    });
    this.procs.push({ proc, group });
    let out = '';
    proc.stderr!.on('data', (d) => (out += d));
    return new Promise<ReadmeServer>((resolve, reject) => {
      let found = false;
      proc.stdout!.on('data', (d) => {
        out += d;
        if (found) return;
        const listening = out.split('\n').find((l) => l.startsWith('{') && l.includes('"http"'));
        if (!listening) return;
        found = true;
        const { http, grpc } = JSON.parse(listening) as { http: string; grpc: string };
        resolve({ proc, base: `http://${http}`, grpc, output: () => out });
      });
      proc.on('exit', (code) => {
        if (!found) reject(new Error(`\`${line}\` exited (${code}) before listening:\n${out}`));
      });
    });
  }

  /** Run a one-shot README command (curl...) in bash with the ports substituted. */
  async run(
    cmd: ShellCommand | string,
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const text = typeof cmd === 'string' ? cmd : cmd.text;
    const proc = spawn('bash', ['-c', this.sub(text)], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.procs.push({ proc, group: false });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const [code] = await once(proc, 'exit');
    return { code: code as number | null, stdout, stderr };
  }

  /** Start a background README command that does not log (e.g. a file server) and wait until `port` accepts. */
  async background(line: string, port: number): Promise<ChildProcess> {
    const proc = spawn('bash', ['-c', `exec ${line}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push({ proc, group: false });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) break;
      const ok = await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      );
      if (ok) return proc;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`\`${line}\` did not start listening on ${port}:\n${out}`);
  }

  /** SIGTERM one server; resolves with its exit code. */
  async stop(server: ReadmeServer | ChildProcess): Promise<number | null> {
    const proc = 'proc' in server ? server.proc : server;
    const entry = this.procs.find((p) => p.proc === proc);
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    const exited = once(proc, 'exit');
    if (entry?.group && proc.pid) process.kill(-proc.pid, 'SIGTERM');
    else proc.kill('SIGTERM');
    const [code] = await exited;
    // `npm start` exits at once on SIGTERM while the server it started drains (--drain_delay_seconds): wait for
    // the whole process group to be gone.
    if (entry?.group && proc.pid) {
      const pgid = proc.pid;
      const alive = (): boolean => {
        try {
          process.kill(-pgid, 0);
          return true;
        } catch {
          return false;
        }
      };
      while (alive()) await new Promise((r) => setTimeout(r, 50));
    }
    return code as number | null;
  }

  /** Kill everything this runner started that is still running. */
  killAll(): void {
    for (const { proc, group } of this.procs) {
      if (proc.exitCode !== null || proc.signalCode !== null || !proc.pid) continue;
      try {
        if (group) process.kill(-proc.pid, 'SIGKILL');
        else proc.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
