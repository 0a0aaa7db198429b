// A package-lock.json for a fresh project that depends on servekit's packed tarballs, built from the repository's
// own lockfile: the tarballs' registry dependencies get exactly the versions (and integrity) the repository
// installed, so `npm ci --offline` takes every one of them from the npm cache and never asks a registry.

/** One entry of a lockfile's `packages`. */
export interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  extraneous?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

/** A lockfile (version 3). */
export interface Lockfile {
  name: string;
  version: string;
  lockfileVersion: number;
  requires: boolean;
  packages: Record<string, LockEntry>;
}

/** A packed workspace: where it lived in the repository, its manifest, and its tarball. */
export interface PackedWorkspace {
  /** Workspace folder in the repository, e.g. `packages/core`. */
  dir: string;
  /** Its package.json. */
  manifest: { name: string; version: string; [field: string]: unknown };
  /** The tarball as the new project's package.json names it, e.g. `file:../tarballs/servekit-core-0.1.0.tgz`. */
  spec: string;
  /** The tarball's sha512 integrity (from `npm pack --json`). */
  integrity: string;
}

/** Where `name`, required from the package at `from`, resolves in the lockfile's tree (Node's lookup). */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const up = base.lastIndexOf('/node_modules/');
    base = up >= 0 ? base.slice(0, up) : '';
  }
}

/**
 * The lockfile of a project named `name` depending on `packed` only, with the root lockfile's versions and
 * integrity. The root lockfile records no `resolved` URLs; each registry package gets one on `registry`, so npm
 * needs no packument to find its tarball, and finds the tarball in its cache by integrity.
 */
export function lockForTarballs(root: Lockfile, packed: PackedWorkspace[], name: string, registry: string): Lockfile {
  const workspaceAt = new Map(packed.map((p) => [p.dir, p]));
  const ours = new Set(packed.map((p) => p.manifest.name));
  // A workspace's own nested node_modules move under node_modules/<its name> in the new tree.
  const relocate = (path: string): string => {
    for (const p of packed) {
      if (path.startsWith(`${p.dir}/`)) return `node_modules/${p.manifest.name}${path.slice(p.dir.length)}`;
    }
    return path;
  };
  const out: Record<string, LockEntry> = {};
  const seen = new Set<string>();
  const queue = packed.map((p) => p.dir);
  while (queue.length > 0) {
    const from = queue.shift()!;
    if (seen.has(from)) continue;
    seen.add(from);
    const entry = root.packages[from];
    if (!entry) throw new Error(`${from} is not in the root package-lock.json (run npm install)`);
    if (!workspaceAt.has(from)) {
      const { dev: _d, devOptional: _o, peer: _p, extraneous: _e, ...kept } = entry;
      const pkgName = from.slice(from.lastIndexOf('node_modules/') + 'node_modules/'.length);
      const tarball = `${pkgName.split('/').pop()}-${entry.version}.tgz`;
      out[relocate(from)] = { ...kept, resolved: kept.resolved ?? `${registry}${pkgName}/-/${tarball}` };
    }
    const optionalPeers = new Set(
      Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, m]) => m.optional)
        .map(([dep]) => dep),
    );
    const deps = [
      ...Object.keys(entry.dependencies ?? {}).map((dep) => [dep, false] as const),
      ...Object.keys(entry.optionalDependencies ?? {}).map((dep) => [dep, true] as const),
      ...Object.keys(entry.peerDependencies ?? {}).map((dep) => [dep, optionalPeers.has(dep)] as const),
    ];
    for (const [dep, optional] of deps) {
      if (ours.has(dep)) continue;
      const at = resolveIn(root.packages, from, dep);
      if (at === undefined) {
        if (optional) continue;
        throw new Error(`${dep} (needed by ${from || 'the root'}) is not in the root package-lock.json`);
      }
      queue.push(at);
    }
  }
  for (const p of packed) {
    const { name: pkgName, version, license, engines, bin, dependencies } = p.manifest;
    out[`node_modules/${pkgName}`] = {
      version,
      resolved: p.spec,
      integrity: p.integrity,
      ...(license === undefined ? {} : { license }),
      ...(dependencies === undefined ? {} : { dependencies: dependencies as Record<string, string> }),
      ...(engines === undefined ? {} : { engines }),
      ...(bin === undefined ? {} : { bin }),
    };
  }
  const dependencies = Object.fromEntries(packed.map((p) => [p.manifest.name, p.spec]));
  return {
    name,
    version: '0.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name, version: '0.0.0', dependencies }, ...out },
  };
}
