// A spec may name only a Kubernetes minor: the patch release comes from
// dl.k8s.io/release/stable-<minor>.txt (through the mirror), read by the resolve step before render.
import { parseStableVersion, stableVersionUrl } from '../render/release-binaries.ts';
import type { Cluster } from '../spec/cluster.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { InsecureSourceError } from './artifact-errors.ts';
import { fetchText } from './fetch-source.ts';
import { isInsecureHttp } from './source-trust.ts';

/**
 * The patch release a minor-only kubernetes.version stands for: the lockfile's record when there
 * is one (a no-op fetches nothing, and the cluster moves to a newer patch only with
 * `artifacts lock --update`), else stable-<minor>.txt, then recorded in the lockfile.
 */
export async function resolveKubernetesVersion(cluster: Cluster, store: ArtifactStore): Promise<string | undefined> {
  const v = cluster.kubernetes.version;
  if (v.patch !== undefined) return undefined;
  const minor = `${v.major}.${v.minor}`;
  const locked = store.lock?.kubernetes(minor);
  if (locked !== undefined) return parseStableVersion(locked, v);
  const source = store.source(stableVersionUrl(v));
  // over plain http the patch release (and so every artifact URL) would be the network's choice
  if (isInsecureHttp(source)) throw new InsecureSourceError(source, `kubernetes ${minor} (${stableVersionUrl(v)})`, store.lock?.path);
  const resolved = parseStableVersion(await fetchText(source), v);
  await store.lock?.recordKubernetes(minor, resolved);
  return resolved;
}
