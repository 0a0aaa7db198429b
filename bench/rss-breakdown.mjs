// Issue 15, row 5: where the RSS of `servekit serve` on rf_iris is, idle and after 5 s of load at c=32 (wrk -t2).
// For each moment it prints
//   - the resident pages by mapping (/proc/PID/smaps: the node binary, onnxruntime's libraries, malloc's [heap],
//     anonymous memory, the rest);
//   - the node binary's resident pages by ELF section (/proc/PID/pagemap against `readelf -S`), with ICU's data
//     (the `icudt*_dat` symbol inside .rodata) apart: what of the runtime a server touches;
//   - V8's heap spaces (size / used), from the server's /metrics.
// Linux only (procfs), needs readelf and nm (binutils) and wrk. The node that runs this script runs the server, so
// `/path/to/node26 bench/rss-breakdown.mjs` measures another runtime.
// --memory-limit MiB starts the server in a memory cgroup of that limit, as a pod's limit would (bench/lib/memory-cgroup.mjs).
// Usage: node bench/rss-breakdown.mjs [--duration 5] [--concurrency 32] [--memory-limit 2048]
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { memoryCgroup } from './lib/memory-cgroup.mjs';
import { rssMiB } from './lib/proc-stats.mjs';
import { ROOT, serveArgv, startServer, stopServer } from './lib/servers.mjs';
import { wrkPost } from './lib/wrk.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '32' },
    'memory-limit': { type: 'string' },
  },
});
const MiB = 2 ** 20;
const PAGE = 4096;
const fmt = (bytes) => (bytes / MiB).toFixed(1);

/** Resident bytes per mapping group of `pid`. */
function byMapping(pid) {
  const groups = new Map();
  let group = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1];
      if (name === process.execPath) group = 'node binary';
      else if (name.includes('onnxruntime')) group = "onnxruntime's libraries";
      else if (name === '[heap]') group = 'malloc [heap]';
      else if (name === '') group = 'anonymous';
      else group = 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) groups.set(group, (groups.get(group) ?? 0) + Number(rss[1]) * 1024);
  }
  return [...groups].sort((a, b) => b[1] - a[1]);
}

/** The node binary's sections (file offset ranges) and ICU's data symbol (virtual address range). */
function binaryLayout() {
  const sections = [];
  for (const line of execFileSync('readelf', ['-SW', process.execPath], { encoding: 'utf8' }).split('\n')) {
    const m = /\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(line);
    const [addr, off, size] = m ? m.slice(2).map((x) => Number.parseInt(x, 16)) : [0];
    if (addr !== 0) sections.push({ name: m[1], addr, off, size });
  }
  const icu = / (r|R) icudt\d+_dat$/m;
  const nm = execFileSync('nm', ['-S', process.execPath], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const line = nm.split('\n').find((l) => icu.test(l));
  const [addr, size] = line ? line.split(' ') : [];
  return {
    sections,
    icu: line && { start: Number.parseInt(addr, 16), end: Number.parseInt(addr, 16) + Number.parseInt(size, 16) },
  };
}

/** Resident bytes of the node binary in `pid`, by section, ICU's data counted apart from the rest of .rodata. */
function binaryBySection(pid, layout) {
  const counts = new Map();
  const fd = openSync(`/proc/${pid}/pagemap`, 'r');
  const entry = Buffer.alloc(8);
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      if (!line.endsWith(` ${process.execPath}`)) continue;
      const [range, , offset] = line.split(/\s+/);
      const [start, end] = range.split('-').map((x) => Number.parseInt(x, 16));
      const fileOffset = Number.parseInt(offset, 16);
      for (let va = start; va < end; va += PAGE) {
        readSync(fd, entry, 0, 8, (va / PAGE) * 8);
        if (!(entry.readBigUInt64LE(0) >> 63n)) continue; // bit 63: page present
        const off = fileOffset + (va - start);
        const section = layout.sections.find((s) => off >= s.off && off < s.off + s.size);
        let name = section?.name ?? '(headers, padding)';
        if (section && layout.icu) {
          const vaddr = section.addr + (off - section.off);
          if (vaddr >= layout.icu.start && vaddr < layout.icu.end) name = 'ICU data (in .rodata)';
        }
        counts.set(name, (counts.get(name) ?? 0) + PAGE);
      }
    }
  } finally {
    closeSync(fd);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** V8's heap spaces from the server's own /metrics (prom-client's default `nodejs_heap_space_size_*` gauges). */
async function heapSpaces(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const spaces = new Map();
  for (const m of text.matchAll(/^nodejs_heap_space_size_(total|used)_bytes\{space="(\w+)"\} (\d+)/gm)) {
    const s = spaces.get(m[2]) ?? { total: 0, used: 0 };
    s[m[1]] = Number(m[3]);
    spaces.set(m[2], s);
  }
  return [...spaces].filter(([, s]) => s.total > 0);
}

async function report(label, server, layout) {
  const pid = server.proc.pid;
  process.stdout.write(`\n${label}: RSS ${rssMiB(pid).toFixed(1)} MiB\n`);
  process.stdout.write('  by mapping (MiB):');
  for (const [name, bytes] of byMapping(pid)) process.stdout.write(`  ${name} ${fmt(bytes)}`);
  process.stdout.write('\n  node binary by section (MiB):');
  for (const [name, bytes] of binaryBySection(pid, layout))
    if (bytes >= MiB / 4) process.stdout.write(`  ${name} ${fmt(bytes)}`);
  process.stdout.write('\n  V8 heap spaces, size / used (MiB):');
  for (const [name, s] of await heapSpaces(server.port))
    process.stdout.write(`  ${name} ${fmt(s.total)} / ${fmt(s.used)}`);
  process.stdout.write('\n');
}

const layout = binaryLayout();
const model = join(ROOT, '../shared/fixtures/onnx/sklearn-onnx-docs/rf_iris');
const argv = serveArgv(['--model_dir', model, '--model_name', 'rf_iris', '--log_level', 'info']);
const cgroup = opts['memory-limit'] === undefined ? undefined : memoryCgroup(Number(opts['memory-limit']));
const server = await startServer(argv, {}, cgroup?.wrap);
const body = JSON.stringify({
  inputs: [{ name: 'float_input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
});
try {
  const limit = cgroup ? `, memory limit ${opts['memory-limit']} MiB` : '';
  process.stdout.write(`servekit serve rf_iris on node ${process.version} (${process.execPath})${limit}\n`);
  await report('idle', server, layout);
  const x = wrkPost(body).run(
    `http://127.0.0.1:${server.port}/v2/models/rf_iris/infer`,
    Number(opts.duration),
    Number(opts.concurrency),
  );
  await report(`after ${opts.duration} s at c=${opts.concurrency} (${Math.round(x.rps)} req/s)`, server, layout);
} finally {
  await stopServer(server);
  cgroup?.remove();
}
