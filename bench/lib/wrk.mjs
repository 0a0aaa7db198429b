// wrk (the native HTTP load generator, Debian's `wrk` package) driven from the benchmarks: one POST body (JSON or
// bytes) with its headers, keep-alive connections, the numbers parsed from wrk's report, and wrk's own CPU time.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when `wrk` is on PATH. */
export function hasWrk() {
  return spawnSync('wrk', ['--version']).error === undefined;
}

/** CPU seconds (user + system) of this process's reaped children: a finished wrk's share of the machine. */
export function childrenCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** wrk's "50%   1.23ms" style latency line in ms (NaN without `--latency`). */
function latencyMs(out, pct) {
  const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
  if (!m) return Number.NaN;
  return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3 }[m[2]];
}

/**
 * A reusable wrk POST: `body` (string or bytes) with `headers`, written once to a Lua script. `run(url, seconds,
 * concurrency)` blocks for the run and returns { rps, answered, p50, p99 (ms), errors, clientUsPerReq }.
 */
export function wrkPost(body, headers = { 'Content-Type': 'application/json' }, threads = 2) {
  const dir = mkdtempSync(join(tmpdir(), 'servekit-wrk-'));
  const bodyFile = join(dir, 'body');
  writeFileSync(bodyFile, body);
  const script = join(dir, 'post.lua');
  const lines = [
    `local f = io.open(${JSON.stringify(bodyFile)}, "rb")`,
    'wrk.method = "POST"',
    'wrk.body = f:read("*a")',
  ];
  lines.push(
    'f:close()',
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(String(v))}`),
  );
  writeFileSync(script, `${lines.join('\n')}\n`);
  return {
    run(url, seconds, concurrency) {
      const args = [
        `-t${threads}`,
        `-c${concurrency}`,
        `-d${seconds}s`,
        '--timeout',
        '10s',
        '--latency',
        '-s',
        script,
        url,
      ];
      const cpu0 = childrenCpuSeconds();
      const out = execFileSync('wrk', args, { encoding: 'utf8' });
      const clientSeconds = childrenCpuSeconds() - cpu0;
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
      const answered = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
      const clientUsPerReq = answered > 0 ? (clientSeconds / answered) * 1e6 : 0;
      return { rps, answered, p50: latencyMs(out, 50), p99: latencyMs(out, 99), errors, clientUsPerReq };
    },
  };
}
