import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by a process. */
export function cpuSeconds(pid) {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** User + system CPU seconds from a /proc `stat` file (a process's, or one of its threads' under task/). */
function statCpuSeconds(path) {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Resident set size of a process in MiB. */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** `pid` and all its live descendants (from each process's parent pid in /proc). */
export function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process exited while /proc was read
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** CPU seconds (user + system) of a process and its live descendants (e.g. a server's worker processes). */
export function treeCpuSeconds(pid) {
  return processTree(pid).reduce((sum, p) => sum + readOr0(() => cpuSeconds(p)), 0);
}

/** Resident set size of a process and its live descendants in MiB (shared pages counted once per process). */
export function treeRssMiB(pid) {
  return processTree(pid).reduce((sum, p) => sum + readOr0(() => rssMiB(p)), 0);
}

function readOr0(read) {
  try {
    return read();
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) of each thread of a process: Map tid → seconds (threads that exited are left out). */
export function threadCpuSeconds(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), statCpuSeconds(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread exited while the list was read
    }
  }
  return out;
}

/** The whole machine's CPU time so far, by kind, in ticks (the first line of /proc/stat). */
export function machineCpuTicks() {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { user: user + nice, system: system + irq + softirq, idle: idle + iowait, steal };
}

/** Shares (0–1) of the machine's CPU time between two `machineCpuTicks()` readings. */
export function machineCpuShares(before, after) {
  const d = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
  const total = d.user + d.system + d.idle + d.steal;
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v / total]));
}
