// Two V8 patterns that keep short-lived request objects alive until a full GC (issue 15, stop 16), each next to the
// shape servekit uses instead. Every case runs in its own `node --expose-gc --trace-gc-nvp` process; the table gives
// the bytes promoted (objects that survived two young collections), the full GCs and the run time.
//   getters-literal  an object literal with a getter per "request" (≈ 1 KB of young objects behind the getter)
//   getters-shared   the same through one shared property descriptor (RequestContext, BatchContext)
//   map-churn        a Map aged into the old generation, one set and one delete per request, 64 requests live
//   slots            the same adds and removals in a slot array (PendingCalls)
//   abort-controller per request, an AbortController whose signal carries the request (Node 20 promotes these alone)
//   timeout-any      the same, plus AbortSignal.any([AbortSignal.timeout(60 s), the request's signal]) (the clients
//                    until stop 16): the timer outlives the call and both hold their signals through WeakRefs
//   call-signal      the same, plus the clients' CallSignal (one controller and timer, released when the call ends)
//   none             the requests alone
// Usage: node bench/v8-retention.mjs [--iterations 1000000]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gcLine } from './lib/gc-trace.mjs';

const { values: opts, positionals } = parseArgs({
  options: { iterations: { type: 'string', default: '1000000' } },
  allowPositionals: true,
});
const n = Number(opts.iterations);
const CASES = [
  'none',
  'getters-literal',
  'getters-shared',
  'map-churn',
  'slots',
  'abort-controller',
  'timeout-any',
  'call-signal',
];

/** One case's loop, in this process (the child side). */
async function runCase(kind) {
  const { CallSignal } =
    kind === 'call-signal' ? await import('../packages/client/dist/call-signal.js') : { CallSignal: undefined };
  const SHARED = {
    enumerable: true,
    configurable: true,
    get() {
      return this.payload;
    },
  };
  class Shared {
    constructor(payload) {
      this.id = 0;
      Object.defineProperty(this, 'data', SHARED);
      this.payload = payload;
    }
  }
  const map = new Map();
  const slots = new Array(128).fill(undefined);
  globalThis.gc();
  globalThis.gc(); // the containers are old from here on
  const live = [];
  let sink;
  const t0 = performance.now();
  for (let id = 0; id < n; id++) {
    const payload = Array.from({ length: 32 }, (_, j) => ({ j }));
    if (kind === 'getters-literal')
      sink = {
        id,
        get data() {
          return payload;
        },
      };
    else if (kind === 'getters-shared') sink = new Shared(payload);
    else if (kind === 'map-churn') map.set(id, payload);
    else if (kind === 'slots') slots[id & 127] = payload;
    else if (kind === 'abort-controller' || kind === 'timeout-any' || kind === 'call-signal') {
      const request = new AbortController();
      request.signal.payload = payload;
      if (kind === 'abort-controller') sink = request.signal;
      else if (kind === 'timeout-any') sink = AbortSignal.any([AbortSignal.timeout(60_000), request.signal]);
      else {
        const call = new CallSignal(60_000, request.signal);
        call.done();
        sink = call.signal;
      }
    }
    live.push(id);
    if (live.length > 64) {
      const gone = live.shift();
      if (kind === 'map-churn') map.delete(gone);
      else if (kind === 'slots') slots[gone & 127] = undefined;
    }
  }
  process.stdout.write(`elapsed=${(performance.now() - t0).toFixed(0)} ${typeof sink}\n`);
}

if (positionals[0]) await runCase(positionals[0]);
else {
  process.stdout.write(`${n} requests per case, node ${process.version}\n\n`);
  process.stdout.write('| case | promoted in all | full GCs | young GCs | time |\n|---|---|---|---|---|\n');
  for (const kind of CASES) {
    const script = fileURLToPath(import.meta.url);
    const args = ['--expose-gc', '--trace-gc-nvp', script, '--iterations', String(n), kind];
    const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    const out = child.stdout;
    let promoted = 0;
    let full = 0;
    let young = 0;
    for (const line of out.split('\n')) {
      const gc = gcLine(line);
      if (gc?.kind === 's') {
        young++;
        promoted += gc.promoted;
      } else if (gc !== undefined) full++;
    }
    const elapsed = /elapsed=(\d+)/.exec(out)?.[1];
    const ms = elapsed === undefined ? `did not finish (exit ${child.status ?? child.signal})` : `${elapsed} ms`;
    // The two forced GCs before the loop are not the loop's.
    const mib = (promoted / 2 ** 20).toFixed(1);
    process.stdout.write(`| ${kind} | ${mib} MiB | ${full - 2} | ${young} | ${ms} |\n`);
  }
}
