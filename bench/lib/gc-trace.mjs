// A server's `node --trace-gc-nvp` lines, read off its stdout and summed as they come: take a snapshot of the totals
// before and after a measured window and subtract (`gcDelta`).
// Every GC line (young `gc=s` and full ones) carries `allocated=` (JS heap bytes allocated since the previous GC) and
// `promoted=` (bytes moved to the old generation by that GC), and `pause=` (ms the main thread stood still).

/** Node flags that make a server print the lines `gcTotals` reads. */
export const GC_TRACE_FLAGS = ['--trace-gc-nvp'];

/** Running totals of `proc`'s GC lines: { allocated, promoted (bytes), pauseMs, scavenges, fullGcs }. */
export function gcTotals(proc) {
  const totals = { allocated: 0, promoted: 0, pauseMs: 0, scavenges: 0, fullGcs: 0 };
  let rest = '';
  proc.stdout.on('data', (chunk) => {
    const lines = (rest + String(chunk)).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const kind = /\bgc=(\w+)/.exec(line)?.[1];
      if (kind === undefined) continue;
      totals.allocated += Number(/\ballocated=(\d+)/.exec(line)?.[1] ?? 0);
      totals.promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
      totals.pauseMs += Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? 0);
      if (kind === 's') totals.scavenges++;
      else totals.fullGcs++;
    }
  });
  return totals;
}

/** `after - before`, field by field, of two snapshots of `gcTotals`. */
export function gcDelta(before, after) {
  const out = {};
  for (const k of Object.keys(after)) out[k] = after[k] - before[k];
  return out;
}

/** Resolve after the GC lines of a just-ended window have reached us through the pipe. */
export function gcSettle(ms = 100) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
