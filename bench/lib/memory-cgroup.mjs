// A memory cgroup for starting a server "as in a pod": Node.js sizes V8's heap (old and young generations) from the
// memory limit of the cgroup it starts in (`process.constrainedMemory()`), as it does under a Kubernetes memory limit.
// Needs write access to the cgroup tree (root in this container): cgroup v2's `memory.max`, else v1's
// `memory.limit_in_bytes`.
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A fresh memory cgroup limited to `mib` MiB: `{ wrap, remove }`; `wrap` prefixes a command so it starts inside. */
export function memoryCgroup(mib) {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const dir = join(v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory', `servekit-bench-${process.pid}-${mib}`);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(mib * 1024 * 1024));
  } catch (err) {
    throw new Error(
      `cannot make a memory cgroup at ${dir} (root and a writable cgroup tree are needed): ${err.message}`,
    );
  }
  return {
    /** `sh -c` that moves itself into the cgroup, then execs the command (so the pid stays the command's). */
    wrap: ['sh', '-c', 'echo $$ > "$0" && exec "$@"', join(dir, 'cgroup.procs')],
    /** Remove the cgroup (after every process in it has exited). */
    remove: () => rmdirSync(dir),
  };
}
