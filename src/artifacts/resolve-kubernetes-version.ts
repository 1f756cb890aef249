// A spec may name only a Kubernetes minor: the patch release comes from
// dl.k8s.io/release/stable-<minor>.txt (through the mirror), read by the resolve step before render.
import { parseStableVersion, stableVersionUrl } from '../render/release-binaries.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { fetchText } from './fetch-source.ts';

/** The patch release for a minor-only spec ("1.36.2"); undefined when the spec names a full version. */
export async function resolveKubernetesVersion(cluster: Cluster, store: ArtifactStore): Promise<string | undefined> {
  const v = cluster.kubernetes.version;
  if (v.patch !== undefined) return undefined;
  return parseStableVersion(await fetchText(store.source(stableVersionUrl(v))), v);
}
