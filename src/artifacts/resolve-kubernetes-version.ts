// Rendered binaries may carry the `v1.36.x` placeholder when the spec names only a minor:
// resolve it from dl.k8s.io/release/stable-<minor>.txt (through the mirror) and fill it in.
import { hasUnresolvedVersion, parseStableVersion, stableVersionUrl } from '../render/release-binaries.ts';
import type { BinarySpec } from '../render/types.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { fetchText } from './fetch-source.ts';

export async function resolveKubernetesVersion(cluster: Cluster, store: ArtifactStore): Promise<string | undefined> {
  const v = cluster.kubernetes.version;
  if (v.patch !== undefined) return undefined;
  return parseStableVersion(await fetchText(store.source(stableVersionUrl(v))), v);
}

/** The binaries with `v<minor>.x` replaced by the resolved version. */
export function withResolvedVersion(binaries: readonly BinarySpec[], version: string | undefined): BinarySpec[] {
  if (version === undefined) return [...binaries];
  const fill = (u: string): string => u.replace(/\/release\/v\d+\.\d+\.x\//, `/release/v${version.replace(/^v/, '')}/`);
  return binaries.map((b) => (hasUnresolvedVersion(b) ? { ...b, url: fill(b.url), checksumUrl: b.checksumUrl === undefined ? undefined : fill(b.checksumUrl) } : b));
}
