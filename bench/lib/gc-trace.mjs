// A server's `node --trace-gc-nvp` lines, read off its stdout and summed as they come: take a snapshot of the totals
// before and after a measured window and subtract (`gcDelta`).
// Every GC line (young `gc=s` and full ones) carries `allocated` (JS heap bytes allocated since the previous GC),
// `promoted` (bytes moved to the old generation by that GC) and `pause` (ms the main thread stood still). Node ≤ 22
// prints them as `key=value` pairs, newer V8 (Node 26) as one JSON object after `GC: `.

/** Node flags that make a server print the lines `gcTotals` reads. */
export const GC_TRACE_FLAGS = ['--trace-gc-nvp'];

/** One trace line's { kind ('s' for a scavenge, else a full GC), allocated, promoted, pauseMs }; undefined if no GC. */
export function gcLine(line) {
  const json = line.indexOf('GC: {');
  if (json >= 0) {
    const o = JSON.parse(line.slice(json + 4));
    return { kind: o.gc, allocated: o.allocated ?? 0, promoted: o.promoted ?? 0, pauseMs: o.pause ?? 0 };
  }
  const kind = /\bgc=(\w+)/.exec(line)?.[1];
  if (kind === undefined) return undefined;
  const num = (re) => Number(re.exec(line)?.[1] ?? 0);
  return {
    kind,
    allocated: num(/\ballocated=(\d+)/),
    promoted: num(/\bpromoted=(\d+)/),
    pauseMs: num(/\bpause=([\d.]+)/),
  };
}

/** Running totals of `proc`'s GC lines: { allocated, promoted (bytes), pauseMs, scavenges, fullGcs }. */
export function gcTotals(proc) {
  const totals = { allocated: 0, promoted: 0, pauseMs: 0, scavenges: 0, fullGcs: 0 };
  let rest = '';
  proc.stdout.on('data', (chunk) => {
    const lines = (rest + String(chunk)).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const gc = gcLine(line);
      if (gc === undefined) continue;
      totals.allocated += gc.allocated;
      totals.promoted += gc.promoted;
      totals.pauseMs += gc.pauseMs;
      if (gc.kind === 's') totals.scavenges++;
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
