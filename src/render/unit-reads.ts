// Which files a unit reads, derived from the render rather than kept in a hand table: start at the
// unit file, take every managed path its text names (ExecStart's binary, --config, --kubeconfig,
// -etcd-certfile, EnvironmentFile), then every managed path those files name in turn (a kubeconfig's
// client-certificate, a kubelet config's tlsCertFile). A changed path restarts exactly the units
// that reach it, so renewing kube-proxy's certificate restarts kube-proxy and nothing else.
import type { BinarySpec, RenderedFile, RenderedUnit } from './types.ts';

/** What a unit starts from, for the derivation. */
export interface UnitSource {
  name: string;
  /** its unit file; for a distro unit whose file is not ours (systemd-sysctl), the config it loads */
  roots: string[];
  /** files it reads although no rendered text names them (a program's built-in default path) */
  unnamedReads?: readonly string[] | undefined;
}

// an absolute path inside any text: `--kubeconfig=/var/lib/kubelet/kubeconfig`, `client-key: /x`, `$ROOT/etc/y`
const pathToken = /\/[\w.@+-]+(?:\/[\w.@+-]+)*/g;

// renderers share one file object between hosts (their templates), so each text is scanned once
const scanned = new WeakMap<RenderedFile, string[]>();

function pathsIn(f: RenderedFile): string[] {
  let found = scanned.get(f);
  if (!found) {
    found = [...new Set(f.contents.match(pathToken) ?? [])];
    scanned.set(f, found);
  }
  return found;
}

/**
 * The units with their `dependsOn`, in the order the sources are given. `placed` lists paths that
 * are managed though not rendered here (certificates the PKI places when the render has no
 * credentials, the droplet lookup token), so they count whether or not their contents are at hand.
 */
export function deriveUnitReads(sources: readonly UnitSource[], files: readonly RenderedFile[], binaries: readonly BinarySpec[], placed: readonly string[] = []): RenderedUnit[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const managed = new Set([...byPath.keys(), ...binaries.map((b) => b.path), ...placed]);
  const named = new Map<string, string[]>();
  const namedBy = (path: string): string[] => {
    let found = named.get(path);
    if (!found) {
      const f = byPath.get(path);
      found = f ? pathsIn(f).filter((p) => p !== path && managed.has(p)) : [];
      named.set(path, found);
    }
    return found;
  };
  return sources.map((s) => {
    const reads: string[] = [];
    const seen = new Set<string>();
    const queue = [...s.roots, ...(s.unnamedReads ?? [])];
    while (queue.length > 0) {
      const p = queue.shift()!;
      if (seen.has(p)) continue;
      seen.add(p);
      reads.push(p);
      // a binary's bytes name nothing we manage; a config's text may
      queue.push(...namedBy(p));
    }
    return { name: s.name, dependsOn: reads };
  });
}
