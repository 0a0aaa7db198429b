// Where a bench run's numbers go: bench/out/<name>.json, with the machine they were measured on.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './servers.mjs';

/** The machine a run is measured on (CPUs, model, memory, Node version). */
export function machineInfo() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** Write `{ machine, ...data }` to bench/out/<name>.json; returns the machine info and the path written. */
export function writeResults(name, data) {
  const machine = machineInfo();
  const path = join(ROOT, 'bench/out', `${name}.json`);
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ machine, ...data }, null, 2)}\n`);
  return { machine, path: `bench/out/${name}.json` };
}
